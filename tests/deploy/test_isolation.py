"""Two students on the same replica at the same time never see each other's state or cached results.

Both sessions talk to one replica directly (one process, one set of st.cache_data caches) over
Streamlit's WebSocket protocol, and move their controls concurrently.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import pytest
from deploy_helpers import ROOT, Cluster, bench_load

pytestmark = pytest.mark.slow

load = bench_load()


def _numeric_slider(s) -> object:
    """The page's first numeric slider bound to the URL (on Curves: Huber's δ)."""
    return next(c for c in s.controls.values() if not c.is_select and c.query_key)


def _state(control, value: float):
    state = load.WidgetState(id=control.id)
    state.double_array_value.data.append(value)
    control.value = [value]
    return state


def test_concurrent_sessions_keep_their_own_controls_urls_and_charts(cluster: Cluster) -> None:
    url = cluster.app_urls[0]

    async def main() -> dict:
        a, b = load.Session(url, "curves", timeout=120), load.Session(url, "curves", timeout=120)
        await asyncio.gather(a.open(), b.open())
        ca, cb = _numeric_slider(a), _numeric_slider(b)
        assert ca.id == cb.id
        low, high = ca.lo + ca.step, ca.hi - ca.step
        runs = []
        # Interleaved, concurrent moves: A low/high/low, B the opposite, at the same moments.
        for va, vb in ((low, high), (high, low), (low, high)):
            runs.append(
                await asyncio.gather(a.set_control(ca, _state(ca, va)), b.set_control(cb, _state(cb, vb)))
            )
        # References: fresh sessions opened from each one's link, after both filled the caches.
        ref_a, ref_b = load.Session(url, "curves", a.query), load.Session(url, "curves", b.query)
        ra, rb = await asyncio.gather(ref_a.open(), ref_b.open())
        await asyncio.gather(*(s.close() for s in (a, b, ref_a, ref_b)))
        return {"key": ca.query_key, "low": low, "high": high, "a": a, "b": b, "runs": runs, "ra": ra, "rb": rb}

    r = asyncio.run(main())
    last_a, last_b = r["runs"][-1]
    assert not last_a.exceptions and not last_b.exceptions
    # Each session's URL carries its own value only.
    assert r["a"].query == urlencode({r["key"]: f"{r['low']:.12g}"})
    assert r["b"].query == urlencode({r["key"]: f"{r['high']:.12g}"})
    # Each chart is the one its own settings give, byte for byte, and the two differ.
    assert last_a.charts and last_b.charts
    assert last_a.charts[0] != last_b.charts[0]
    assert last_a.charts[0] == r["ra"].charts[0]
    assert last_b.charts[0] == r["rb"].charts[0]
    # Every round, each session got the chart of its own value (no cross-talk in a busy moment).
    for run_a, run_b in r["runs"]:
        assert run_a.charts[0] != run_b.charts[0]


@pytest.mark.skipif(not (ROOT / "pages" / "custom.py").exists(), reason="no Custom loss page yet")
def test_custom_losses_belong_to_their_session(cluster: Cluster) -> None:
    """A defines a custom loss, B another, at the same time: each lists only its own."""
    url = cluster.app_urls[0]

    def custom(name: str, formula: str) -> str:
        return urlencode({"custom_name": name, "custom_formula": formula})

    async def main() -> tuple:
        a = load.Session(url, "custom", custom("iso_alpha", "abs(p - y)"), timeout=120)
        b = load.Session(url, "custom", custom("iso_beta", "(p - y)**2"), timeout=120)
        ra, rb = await asyncio.gather(a.open(), b.open())
        c = load.Session(url, "custom", timeout=120)  # a third student, with no custom loss
        rc = await c.open()
        await asyncio.gather(*(s.close() for s in (a, b, c)))
        return ra, rb, rc

    ra, rb, rc = asyncio.run(main())
    ids = lambda run: " ".join(run.widget_ids)  # noqa: E731
    assert not ra.exceptions and not rb.exceptions and not rc.exceptions
    assert "iso_alpha" in ids(ra) and "iso_beta" not in ids(ra)
    assert "iso_beta" in ids(rb) and "iso_alpha" not in ids(rb)
    assert "iso_alpha" not in ids(rc) and "iso_beta" not in ids(rc)
