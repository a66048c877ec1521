"""Helpers of the deployment tests: the Dockerfile as data, the build context, ports, the bench client."""

from __future__ import annotations

import fnmatch
import importlib.util
import json
import shlex
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Instruction:
    op: str  # FROM, RUN, COPY, ...
    args: str  # the rest of the line, continuations joined
    line: int


@dataclass
class Recipe:
    """What a Dockerfile says, in the order it says it."""

    instructions: list[Instruction]
    args: dict[str, str] = field(default_factory=dict)  # ARG defaults
    env: dict[str, str] = field(default_factory=dict)

    def all(self, op: str) -> list[Instruction]:
        return [i for i in self.instructions if i.op == op]

    def one(self, op: str) -> Instruction:
        found = self.all(op)
        assert len(found) == 1, f"expected one {op}, found {len(found)}"
        return found[0]

    def exec_form(self, op: str) -> list[str]:
        """The JSON (exec) form of CMD, or of HEALTHCHECK's CMD."""
        text = self.one(op).args
        if op == "HEALTHCHECK":
            text = text.split(" CMD ", 1)[1].strip()
        return json.loads(text)


def parse_dockerfile(text: str) -> Recipe:
    """Instructions with line continuations joined and comments dropped (enough for our Dockerfile)."""
    instructions: list[Instruction] = []
    pending, start = "", 0
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = n
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        op, _, rest = full.partition(" ")
        instructions.append(Instruction(op.upper(), " ".join(rest.split()), start))
    recipe = Recipe(instructions)
    for i in recipe.all("ARG"):
        name, _, default = i.args.partition("=")
        recipe.args[name] = default
    for i in recipe.all("ENV"):
        for token in shlex.split(i.args):
            name, _, value = token.partition("=")
            recipe.env[name] = value
    return recipe


def dockerfile() -> Recipe:
    return parse_dockerfile((ROOT / "Dockerfile").read_text())


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule for the patterns we use: a pattern matches the path or one of its
    parent folders (``**/`` matches any depth). Negations (``!``) are not used, and refused."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: k + 1]) for k in range(len(parts))]
    for pattern in patterns:
        assert not pattern.startswith("!"), "the tests do not model .dockerignore exceptions"
        bare = pattern.removeprefix("**/")
        for prefix in prefixes:
            if fnmatch.fnmatchcase(prefix, pattern):
                return True
            if bare != pattern and fnmatch.fnmatchcase(prefix.split("/")[-1], bare):
                return True
    return False


def build_context() -> list[str]:
    """Files a build from a clean checkout sends to Docker: git's files (tracked, and new ones not
    ignored by .gitignore) minus .dockerignore."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    patterns = dockerignore_patterns()
    return sorted(p for p in out if (ROOT / p).is_file() and not ignored(p, patterns))


def nginx() -> str:
    """Debian's nginx: on PATH, or in /usr/sbin (not on every user's PATH). A missing nginx fails the test,
    never skips it: the test command (scripts/test.sh) installs it, so a fresh machine runs every test."""
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if found is None:
        pytest.fail(
            "nginx is missing: the deployment tests run Debian's nginx. Install it with "
            "`apt-get install nginx` (scripts/test.sh does this)."
        )
    return found


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base + count >= 65000:
            continue
        try:
            socks = []
            for p in range(base, base + count):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free block of ports")


@dataclass
class Cluster:
    """A running deploy/run_local.sh topology."""

    url: str  # nginx
    run_dir: Path
    app_urls: list[str]  # the replicas, straight
    env: dict[str, str]

    def script(self, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
        """deploy/run_local.sh with this topology's settings."""
        return subprocess.run(
            ["bash", str(ROOT / "deploy" / "run_local.sh"), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def bench_load() -> ModuleType:
    """bench/load.py, the load-test client, as a module."""
    name = "lossviz_bench_load"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "load.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
