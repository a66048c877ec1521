"""Two students on the same replica at the same time never see each other's state or cached results.

Both sessions talk to one replica directly (one process, one set of st.cache_data caches) over
Streamlit's WebSocket protocol, and move their controls concurrently.
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from deploy_helpers import ROOT, Cluster, bench_load

pytestmark = pytest.mark.slow

load = bench_load()


def _live(s) -> object:
    """The page's first live control (on Curves: Huber's δ, under the chart)."""
    return next(c for c in s.controls.values() if c.kind == "live")


def _shown(chart: str | bytes) -> object:
    """What a chart shows: a Plotly chart's JSON, or a live chart's figure and controls (without its commit count,
    which differs between a session that committed and one opened from its link)."""
    if isinstance(chart, bytes):
        data = json.loads(chart)
        data.pop("seq")
        return data
    return chart


def _commit(control, frame: int):
    """The state the browser sends when the live control is released on ``frame``."""
    control.seq += 1
    control.value = [float(frame)]
    state = load.WidgetState(id=control.id)
    state.json_value = json.dumps({"committed": {"values": [control.frames[0][frame]], "seq": control.seq}})
    return state


def test_concurrent_sessions_keep_their_own_controls_urls_and_charts(cluster: Cluster) -> None:
    url = cluster.app_urls[0]

    async def main() -> dict:
        a, b = load.Session(url, "curves", timeout=120), load.Session(url, "curves", timeout=120)
        await asyncio.gather(a.open(), b.open())
        ca, cb = _live(a), _live(b)
        assert ca.id == cb.id
        low, high = 1, len(ca.frames[0]) - 2
        runs = []
        # Interleaved, concurrent commits: A low/high/low, B the opposite, at the same moments.
        for fa, fb in ((low, high), (high, low), (low, high)):
            runs.append(await asyncio.gather(a.set_control(ca, _commit(ca, fa)), b.set_control(cb, _commit(cb, fb))))
        # References: fresh sessions opened from each one's link, after both filled the caches.
        ref_a, ref_b = load.Session(url, "curves", a.query), load.Session(url, "curves", b.query)
        ra, rb = await asyncio.gather(ref_a.open(), ref_b.open())
        await asyncio.gather(*(s.close() for s in (a, b, ref_a, ref_b)))
        values = (ca.frames[0][low], ca.frames[0][high])
        return {"values": values, "a": a, "b": b, "runs": runs, "ra": ra, "rb": rb}

    r = asyncio.run(main())
    last_a, last_b = r["runs"][-1]
    assert not last_a.exceptions and not last_b.exceptions
    # Each session's URL (written by the server on a commit) carries its own value only.
    (key_a, value_a), = parse_qsl(r["a"].query)
    (key_b, value_b), = parse_qsl(r["b"].query)
    assert key_a == key_b == "curves_huber_delta"
    assert (float(value_a), float(value_b)) == pytest.approx(r["values"], rel=1e-3)
    # Each chart is the one its own settings give, byte for byte, and the two differ.
    assert last_a.charts and last_b.charts
    assert _shown(last_a.charts[0]) != _shown(last_b.charts[0])
    assert _shown(last_a.charts[0]) == _shown(r["ra"].charts[0])
    assert _shown(last_b.charts[0]) == _shown(r["rb"].charts[0])
    # Every round, each session got the chart of its own value (no cross-talk in a busy moment).
    for run_a, run_b in r["runs"]:
        assert _shown(run_a.charts[0]) != _shown(run_b.charts[0])


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
