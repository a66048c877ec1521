"""The image's recipe, proven without a Docker engine.

The Dockerfile's own commands run outside Docker, in the order it gives them: its build context
(git's files minus .dockerignore) is copied to a scratch WORKDIR, a fresh virtual environment
stands in for the base image's Python, every RUN executes verbatim through ``sh -c`` with the
Dockerfile's ARG defaults and ENV, and then its CMD starts the app as an unprivileged user with
the image's ENV. The health endpoint must answer, the HEALTHCHECK command must pass, and a real
session must run a page and draw its chart over Streamlit's WebSocket protocol.

Two things differ from ``docker build``/``docker run``, and only in the environment, never in the
commands: pip reads packages from a local wheel cache (``.whl/``, filled once by ``pip download``;
PIP_NO_INDEX makes the ``--index-url`` of the torch line fall back to it), and the container port
8501 is published on a free loopback port, as ``docker run -p <free>:8501`` would. The RUN that
creates the system user is not executed (it would add a user to this machine); the app runs as
``nobody`` instead, so it is still proven to need no write access to its code.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from deploy_helpers import ROOT, bench_load, build_context, dockerfile, free_port_block

pytestmark = pytest.mark.slow

WHEELS = ROOT / ".whl"
EXTRA_LINKS = [p for p in ("/opt/wheels",) if Path(p).is_dir()]  # a machine-wide wheel directory, if any


def _pip(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def wheel_cache() -> list[str]:
    """Find-links directories holding every requirement; fills ``.whl/`` from the indexes when needed."""
    WHEELS.mkdir(exist_ok=True)
    links = [str(WHEELS), *EXTRA_LINKS]
    link_args = [a for d in links for a in ("--find-links", d)]
    reqs = ["-r", str(ROOT / "requirements.txt")]
    offline = _pip("download", "-q", "--no-index", *link_args, *reqs, "-d", str(WHEELS))
    if offline.returncode == 0:
        return links
    torch_index = dockerfile().args["TORCH_INDEX_URL"]
    online = _pip(
        "download", "-q", "--retries", "1", "--extra-index-url", torch_index, *link_args, *reqs, "-d", str(WHEELS)
    )
    if online.returncode != 0:
        pytest.skip(f"no wheel cache and no package index reachable:\n{online.stderr[-2000:]}")
    return links


def run_env(venv: Path, extra: dict[str, str]) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "STREAMLIT_", "VIRTUAL_ENV", "PYTHON"))}
    keep["PATH"] = f"{venv / 'bin'}:{keep.get('PATH', '/usr/bin:/bin')}"
    keep["VIRTUAL_ENV"] = str(venv)
    return {**keep, **extra}


@pytest.fixture(scope="module")
def image() -> Iterator[tuple[Path, Path]]:
    """The 'image': (WORKDIR with the build context, venv with the RUN steps applied)."""
    recipe = dockerfile()
    links = wheel_cache()
    scratch = Path(tempfile.mkdtemp(prefix="lossviz-image-"))
    scratch.chmod(0o755)
    workdir, venv = scratch / "app", scratch / "venv"
    try:
        for rel in build_context():
            (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, workdir / rel)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        build_env = run_env(
            venv,
            {
                **recipe.args,
                **recipe.env,
                "PIP_NO_INDEX": "1",
                "PIP_FIND_LINKS": " ".join(links),
                "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            },
        )
        for step in recipe.all("RUN"):
            if "useradd" in step.args:
                continue  # the system user; the app runs as nobody below
            done = subprocess.run(
                ["sh", "-c", step.args], cwd=workdir, env=build_env, capture_output=True, text=True, timeout=1200
            )
            assert done.returncode == 0, f"RUN {step.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        subprocess.run(["chmod", "-R", "a+rX", str(scratch)], check=True)
        yield workdir, venv
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def test_install_gives_the_pinned_cpu_torch_and_requirements(image: tuple[Path, Path]) -> None:
    _, venv = image
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import torch, streamlit; print(torch.__version__, streamlit.__version__,"
         " torch.cuda.is_available())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    torch_v, streamlit_v, cuda = out.stdout.split()
    reqs = dict(ln.split("==") for ln in (ROOT / "requirements.txt").read_text().splitlines() if "==" in ln)
    assert torch_v.split("+")[0] == reqs["torch"] and streamlit_v == reqs["streamlit"]
    assert cuda == "False"
    freeze = subprocess.run([str(venv / "bin" / "pip"), "freeze"], capture_output=True, text=True).stdout
    assert "nvidia-" not in freeze, "a CUDA library came in: torch is not the CPU build"


def test_start_command_serves_health_and_a_working_page(image: tuple[Path, Path]) -> None:
    workdir, venv = image
    recipe = dockerfile()
    port = free_port_block(1)
    cmd = [a.replace("--server.port=8501", f"--server.port={port}") for a in recipe.exec_form("CMD")]
    home = Path(tempfile.mkdtemp(prefix="lossviz-home-"))
    env = run_env(venv, {**recipe.env, "HOME": str(home)})
    prefix: list[str] = []
    if os.geteuid() == 0:  # as the image: an unprivileged user that cannot write its code
        shutil.chown(home, 65534, 65534)
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    proc = subprocess.Popen(
        [*prefix, *cmd], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        health = f"http://127.0.0.1:{port}/_stcore/health"
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"the app exited: {proc.stdout.read() if proc.stdout else ''}"
            try:
                with urllib.request.urlopen(health, timeout=2) as r:
                    if r.status == 200 and r.read() == b"ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "no health answer within 180 s"
            time.sleep(0.5)
        check = [a.replace(":8501/", f":{port}/") for a in recipe.exec_form("HEALTHCHECK")]
        assert subprocess.run(check, env=env, timeout=30).returncode == 0, "the HEALTHCHECK command fails"

        load = bench_load()

        async def visit() -> tuple[list[str], object]:
            s = load.Session(f"http://127.0.0.1:{port}", "curves", timeout=120)
            try:
                run = await s.open()
                return list(s.pages), run
            finally:
                await s.close()

        pages, run = asyncio.run(visit())
        assert "curves" in pages
        assert run.exceptions == [] and run.finished_s is not None
        assert run.charts, "the Curves page drew no chart"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)
    assert proc.returncode in (0, -signal.SIGTERM), f"unclean shutdown: {proc.returncode}"
