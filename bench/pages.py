"""Benchmark of the pages: warm rerun time after a control change, and the size of every figure.

Run from the repository root::

    python bench/pages.py                 # every page of the navigation (lossviz.ui.navigation.SECTIONS)
    python bench/pages.py --reruns 9 --write docs/benchmarks.md

For every page file listed in ``app.py``'s ``SECTIONS`` (read with ``ast``, not imported) that
exists, the script runs the page in Streamlit's AppTest through app.py (``switch_page``: the real
navigation, page config and per-session scope; ``--standalone`` runs the page file alone), in one
process pinned to one CPU core with one torch thread: a first run, then reruns that each change
the page's first slider or select control (alternating between a neighbouring value and the
original, so the first change is the only cold one). It reports the first-change time, the median
wall and CPU time of the timed reruns, the largest figure's JSON (``element.proto.spec``, what the
browser receives) and the number of figures. A trivial one-slider page is measured the same way
in the same run; its median is the baseline that the ``× baseline`` column divides by, to factor
out the machine's speed and AppTest's own overhead. Targets: a warm rerun under 150 ms (judged on
CPU time, what it takes on an idle core), no figure over 1 MB.
"""

from __future__ import annotations

import argparse
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
    """One page: wall and CPU time of the first changed rerun and the medians, figure sizes."""

    page: str
    control: str
    first_change_ms: float
    median_ms: float
    median_cpu_ms: float
    largest_kb: float
    figures: int
    error: str = ""


def _failed(name: str, control: str, error: str) -> Result:
    return Result(name, control, 0, 0, 0, 0, 0, error)


def page_paths() -> list[str]:
    """The page files of the navigation (lossviz.ui.navigation.SECTIONS), in order."""
    sys.path.insert(0, str(ROOT))
    from lossviz.ui.navigation import page_files  # the bench runs from any folder: lossviz from the checkout

    return page_files()


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


def _error(at: Any) -> str:
    """The first exception on the page, its last traceback line when the message is redacted."""
    exc = at.exception[0]
    lines = [line for line in getattr(exc, "stack_trace", []) if line.strip()]
    text = lines[-1] if lines else exc.value
    return "exception: " + text.strip().splitlines()[-1][:100].replace("|", "/")


def measure(path: Path, reruns: int, timeout: float, app: Path | None = ROOT / "app.py") -> Result:
    """Time one page; through ``app`` (its navigation, page config and session scope) unless None."""
    from streamlit.testing.v1 import AppTest

    name = path.stem
    at = AppTest.from_file(str(app or path), default_timeout=timeout)
    try:
        at.run()
        if app is not None:
            at.switch_page(str(path.relative_to(app.parent)))
            at.run()
        if at.exception:
            return _failed(name, "", _error(at))
        sizes = _figure_sizes(at)
        control = first_control(at)
        kind, key, label = (control.type, control.key, control.label) if control else ("", None, "")
        values = [other_value(control), control.value] if control else []
        times: list[tuple[float, float]] = []
        for i in range(reruns):
            if control is not None:
                set_control(at, kind, key, label, values[i % 2])
            times.append(_timed(at))
            if at.exception:
                return _failed(name, key or label, _error(at))
            sizes = [*sizes, *_figure_sizes(at)]
        return Result(
            name,
            f"{kind} `{key or label}`" if control else "(no slider or select: plain reruns)",
            times[0][0] * 1e3,
            statistics.median(t[0] for t in times) * 1e3,
            statistics.median(t[1] for t in times) * 1e3,
            max(sizes, default=0) / 1024,
            len(_figure_sizes(at)),
        )
    except Exception as exc:  # a page that cannot run standalone is reported, not fatal
        return _failed(name, "", f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}")


def _timed(at: Any) -> tuple[float, float]:
    """Wall time and CPU time of the process (the script thread's work; AppTest's wait is a sleep)."""
    wall, cpu = time.perf_counter(), time.process_time()
    at.run()
    return time.perf_counter() - wall, time.process_time() - cpu


def baseline(reruns: int, timeout: float) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "baseline.py"
        page.write_text(BASELINE_PAGE)
        return measure(page, reruns, timeout, app=None)


def table(results: list[Result], base: Result) -> str:
    """Markdown table; the targets column judges the CPU median (time on an idle core) and figure size."""
    lines = [
        "| page | control changed | first change ms | median rerun ms | × baseline | median CPU ms | "
        "largest figure KB | figures | < 150 ms, < 1 MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in [base, *results]:
        if r.error:
            lines.append(f"| {r.page} | — | — | — | — | — | — | — | {r.error} |")
            continue
        ok = r.median_cpu_ms < TARGET_MS and r.largest_kb * 1024 < TARGET_BYTES
        ratio = r.median_ms / base.median_ms if base.median_ms else float("nan")
        lines.append(
            f"| {r.page} | {r.control} | {r.first_change_ms:.0f} | {r.median_ms:.0f} | {ratio:.1f} | "
            f"{r.median_cpu_ms:.0f} | {r.largest_kb:.0f} | {r.figures} | {'✓' if ok else '✗'} |"
        )
    return "\n".join(lines)


def summary(results: list[Result]) -> str:
    """One paragraph: which pages miss which target, and the largest figure."""
    ok = [r for r in results if not r.error]
    slow = [f"{r.page} ({r.median_cpu_ms:.0f} ms)" for r in ok if r.median_cpu_ms >= TARGET_MS]
    big = [f"{r.page} ({r.largest_kb:.0f} KB)" for r in ok if r.largest_kb * 1024 >= TARGET_BYTES]
    failed = [r.page for r in results if r.error]
    largest = max(ok, key=lambda r: r.largest_kb, default=None)
    parts = [
        f"Over the 150 ms target (median CPU): {', '.join(slow)}." if slow else "Every page reruns under 150 ms (median CPU).",
        f"Figures over 1 MB: {', '.join(big)}." if big else
        (f"No figure over 1 MB (largest: {largest.page}, {largest.largest_kb:.0f} KB)." if largest else ""),
    ]
    if failed:
        parts.append(f"Could not be measured: {', '.join(failed)}.")
    return " ".join(p for p in parts if p)


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
    parser.add_argument("--standalone", action="store_true", help="run each page file on its own, not through app.py")
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
        results.append(measure(ROOT / path, reruns, args.timeout, app=None if args.standalone else ROOT / "app.py"))
        print(f"measured {path}", file=sys.stderr, flush=True)
    out = table(results, base)
    print(out)
    if args.write:
        command = "python bench/pages.py" + (f" --reruns {args.reruns}" if args.reruns != 7 else "")
        body = (
            f"- Date: {dt.date.today().isoformat()}\n- Command: `{command}` (from the repository root)\n"
            f"- Machine: {machine()}\n\n"
            "What it measures: each page of app.py's `SECTIONS` runs in AppTest through app.py (its navigation, page "
            "config and session scope; one process pinned to one core, one torch thread): a first run, then reruns "
            "that each change the page's first slider or select control "
            "(alternating with the original value). *First change* is the wall time of the first of those reruns "
            f"(the only one that may miss the caches); *median* the median wall time of {reruns}; *× baseline* divides "
            "it by the median of a trivial one-slider page measured in the same run (AppTest's own overhead and "
            "the machine's speed); *CPU* is the process CPU time of a rerun, what it takes on an idle core — the "
            "number the target (< 150 ms) is judged on, since wall times on a shared machine include waiting for "
            "the CPU. *Largest figure* is the biggest chart JSON the browser receives (target < 1 MB).\n\n" + out
            + "\n\n" + summary(results)
        )
        write_section(args.write, body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
