"""Page tests: make ``helpers`` importable (``from helpers import ...``) and run from the repo root."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
