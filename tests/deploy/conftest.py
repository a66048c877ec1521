"""Deployment tests: ``deploy_helpers`` importable, and the local scale-out topology as a fixture."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from deploy_helpers import Cluster, free_port_block, nginx  # noqa: E402

REPLICAS = 3


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    """deploy/run_local.sh with 3 replicas behind nginx on free loopback ports, in a scratch run directory."""
    nginx_path = nginx()
    base = free_port_block(REPLICAS + 1)
    run_dir = Path(tempfile.mkdtemp(prefix="lossviz-cluster-"))
    env = {
        **os.environ,
        "LOSSVIZ_PORT": str(base),
        "LOSSVIZ_APP_PORT": str(base + 1),
        "LOSSVIZ_REPLICAS": str(REPLICAS),
        "LOSSVIZ_RUN_DIR": str(run_dir),
        "PYTHON": sys.executable,
        "NGINX": nginx_path,
    }
    c = Cluster(f"http://127.0.0.1:{base}", run_dir, [f"http://127.0.0.1:{base + 1 + i}" for i in range(REPLICAS)], env)
    started = c.script("start")
    try:
        assert started.returncode == 0, f"run_local.sh start failed:\n{started.stdout}\n{started.stderr}"
        yield c
    finally:
        c.script("stop", timeout=60)
        shutil.rmtree(run_dir, ignore_errors=True)
