"""Benchmark of the pages: warm rerun time after a control change, and the size of every figure.

Run from the repository root::

    python bench/pages.py                 # every page of app.py's SECTIONS that exists
    python bench/pages.py --reruns 9 --write docs/benchmarks.md

For every page file listed in ``app.py``'s ``SECTIONS`` (read with ``ast``, not imported) that
exists, the script runs the page in Streamlit's AppTest (one process, pinned to one CPU core,
one torch thread): a first run, then reruns that each change the page's first slider or select
control (alternating between a neighbouring value and the original, so the first change is the
only cold one). It reports the first-change time, the median of the timed reruns, the largest
figure's JSON (``element.proto.spec``, what the browser receives) and the number of figures.
A trivial one-slider page is measured the same way in the same run; its median is the
baseline that the ``× baseline`` column divides by, to factor out the machine's speed and
AppTest's own overhead. Targets: a warm rerun under 150 ms, no figure over 1 MB.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 150.0
TARGET_BYTES = 1_000_000
SECTION = "## Pages (bench/pages.py)"
BASELINE_PAGE = '''import streamlit as st

value = st.slider("x", 0.0, 1.0, 0.5, key="baseline_x")
st.write(value * 2)
'''


@dataclass(frozen=True)
class Result:
    page: str
    control: str
    first_change_ms: float
    median_ms: float
    largest_kb: float
    figures: int
    error: str = ""


def page_paths(app: Path = ROOT / "app.py") -> list[str]:
    """The page files named in ``SECTIONS`` of app.py, in order (parsed, not executed)."""
    tree = ast.parse(app.read_text())
    for node in ast.walk(tree):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "SECTIONS" and node.value is not None:
            sections = ast.literal_eval(node.value)
            return [path for entries in sections.values() for path, *_ in entries]
    raise ValueError(f"no SECTIONS assignment in {app}")


def first_control(at: Any) -> Any | None:
    """The first slider, select slider or select box of the page, in page order (main, then sidebar)."""
    for node in at._tree:
        if getattr(node, "type", None) in ("slider", "select_slider", "selectbox") and not getattr(node, "disabled", False):
            return node
    return None


def other_value(control: Any) -> Any:
    """A value next to the control's current one (the step or option above, or below at the top)."""
    value = control.value
    if control.type == "slider":
        if isinstance(value, (tuple, list)):
            return value  # a range slider: leave it (none on these pages)
        up = value + control.step
        return up if up <= control.max else value - control.step
    options = list(control.options)
    label = str(control.format_func(value))
    index = options.index(label) if label in options else 0
    neighbour = options[index + 1] if index + 1 < len(options) else options[index - 1]
    if control.type == "selectbox":
        return neighbour
    return _option_value(control, neighbour)


def _option_value(control: Any, label: str) -> Any:
    """The value behind a select slider's option label (AppTest's set_value takes values)."""
    candidates: list[Any] = [label]
    for convert in (int, float):
        try:
            candidates.append(convert(label))
        except ValueError:
            pass
    for candidate in reversed(candidates):
        try:
            if str(control.format_func(candidate)) == label:
                return candidate
        except (TypeError, ValueError):
            continue
    return label


def set_control(at: Any, kind: str, key: str | None, label: str, value: Any) -> None:
    widgets = {"slider": at.slider, "select_slider": at.select_slider, "selectbox": at.selectbox}[kind]
    widget = widgets(key=key) if key else next(w for w in widgets if w.label == label)
    widget.set_value(value)


def _figure_sizes(at: Any) -> list[int]:
    return [len(el.proto.spec.encode()) for el in at.get("plotly_chart")]


def measure(path: Path, reruns: int, timeout: float) -> Result:
    from streamlit.testing.v1 import AppTest

    name = path.stem
    at = AppTest.from_file(str(path), default_timeout=timeout)
    try:
        at.run()
        if at.exception:
            return Result(name, "", 0, 0, 0, 0, f"exception: {at.exception[0].value.splitlines()[0][:80]}")
        sizes = _figure_sizes(at)
        control = first_control(at)
        if control is None:
            times = [_timed(at) for _ in range(reruns)]
            return Result(name, "(none: plain reruns)", times[0] * 1e3, statistics.median(times) * 1e3,
                          max(sizes, default=0) / 1024, len(sizes))
        kind, key, label = control.type, control.key, control.label
        values = [other_value(control), control.value]
        times = []
        for i in range(reruns):
            set_control(at, kind, key, label, values[i % 2])
            times.append(_timed(at))
            if at.exception:
                return Result(name, key or label, 0, 0, 0, 0, f"exception: {at.exception[0].value.splitlines()[0][:80]}")
            sizes = [*sizes, *_figure_sizes(at)]
        return Result(
            name, f"{kind} {key or label}", times[0] * 1e3, statistics.median(times) * 1e3,
            max(sizes, default=0) / 1024, len(_figure_sizes(at)),
        )
    except Exception as exc:  # a page that cannot run standalone is reported, not fatal
        return Result(name, "", 0, 0, 0, 0, f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}")


def _timed(at: Any) -> float:
    start = time.perf_counter()
    at.run()
    return time.perf_counter() - start


def baseline(reruns: int, timeout: float) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "baseline.py"
        page.write_text(BASELINE_PAGE)
        return measure(page, reruns, timeout)


def table(results: list[Result], base: Result) -> str:
    lines = [
        "| page | control changed | first change ms | median rerun ms | × baseline | largest figure KB | figures | targets |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in [base, *results]:
        if r.error:
            lines.append(f"| {r.page} | — | — | — | — | — | — | {r.error} |")
            continue
        ok = r.median_ms < TARGET_MS and r.largest_kb * 1024 < TARGET_BYTES
        ratio = r.median_ms / base.median_ms if base.median_ms else float("nan")
        lines.append(
            f"| {r.page} | {r.control} | {r.first_change_ms:.0f} | {r.median_ms:.0f} | {ratio:.1f} | "
            f"{r.largest_kb:.0f} | {r.figures} | {'✓' if ok else '✗'} |"
        )
    return "\n".join(lines)


def machine() -> str:
    try:
        import torch

        torch_version = torch.__version__
    except ImportError:  # pragma: no cover
        torch_version = "absent"
    import streamlit

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"Python {platform.python_version()}, streamlit {streamlit.__version__}, torch {torch_version}; "
        f"{cpus} CPU core(s) used; load average {load:.1f} at the start"
    )


def write_section(doc: Path, body: str) -> None:
    """Replace (or append) the "## Pages (bench/pages.py)" section of ``doc``; other sections stay."""
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    start = text.find(SECTION)
    block = f"{SECTION}\n\n{body.strip()}\n"
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + block
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + block + ("\n" + text[end + 1 :] if end >= 0 else "")
    doc.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reruns", type=int, default=7, help="timed reruns per page (at least 5)")
    parser.add_argument("--timeout", type=float, default=300.0, help="AppTest timeout per run, seconds")
    parser.add_argument("--pages", nargs="*", help="only these page files (default: all of app.py's SECTIONS)")
    parser.add_argument("--write", type=Path, help="write the table into this Markdown file's Pages section")
    parser.add_argument("--all-cores", action="store_true", help="do not pin the process to one CPU core")
    args = parser.parse_args(argv)
    reruns = max(args.reruns, 5)
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    paths = args.pages or [p for p in page_paths() if (ROOT / p).exists()]
    base = baseline(reruns, args.timeout)
    results = []
    for path in paths:
        results.append(measure(ROOT / path, reruns, args.timeout))
        print(f"measured {path}", file=sys.stderr, flush=True)
    out = table(results, base)
    print(out)
    if args.write:
        command = "python bench/pages.py" + (f" --reruns {args.reruns}" if args.reruns != 7 else "")
        body = (
            f"Measured {dt.date.today().isoformat()} with `{command}` ({machine()}). Each page runs in AppTest: "
            "a first run, then reruns that each change its first slider or select control (alternating with the "
            f"original value); *first change* is the first of those reruns, *median* the median of {reruns}. "
            "*× baseline* divides by the median of a trivial one-slider page measured in the same run (AppTest's "
            "own overhead and the machine's speed). Targets: median < 150 ms, no figure over 1 MB "
            "(1024 KB).\n\n" + out
        )
        write_section(args.write, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
