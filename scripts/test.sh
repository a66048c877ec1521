#!/usr/bin/env bash
# Installs everything the tests need into the active Python environment, then runs them.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q -r requirements.txt -r requirements-dev.txt
if [ ! -x /usr/bin/chromium ]; then
    # The browser tests drive Debian's Chromium; never a downloaded browser.
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
fi
ruff check .
python -m pytest "$@"
