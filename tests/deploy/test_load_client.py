"""bench/load.py's pieces that need no server (fast)."""

from __future__ import annotations

import random

import pytest
from deploy_helpers import bench_load

load = bench_load()


def slider(**kw) -> object:
    base = {"id": "w", "label": "δ", "lo": 0.05, "hi": 5.0, "step": 0.05, "options": [], "value": [1.0]}
    return load.Control(**{**base, **kw})


def test_moving_a_slider_lands_on_another_grid_value_inside_the_range() -> None:
    rng = random.Random(0)
    c = slider()
    for _ in range(200):
        before = c.value[0]
        state = c.moved(rng)
        v = state.double_array_value.data[0]
        assert v != before and 0.05 <= v <= 5.0
        assert abs(v / 0.05 - round(v / 0.05)) < 1e-9
        assert c.value == [v] and c.url_value() == f"{v:.12g}"


def test_moving_a_select_slider_sends_another_option_string() -> None:
    rng = random.Random(1)
    c = slider(lo=0, hi=3, step=1, options=["0.5", "1", "2", "5"], value=[1.0])
    seen = set()
    for _ in range(50):
        before = c.options[int(c.value[0])]
        state = c.moved(rng)
        (sent,) = state.string_array_value.data
        assert sent != before and sent in c.options and c.url_value() == sent
        seen.add(sent)
    assert seen == {"0.5", "1", "2", "5"}


def test_range_slider_moves_its_first_handle_below_the_second() -> None:
    rng = random.Random(2)
    c = slider(lo=0, hi=10, step=1, value=[2.0, 6.0])
    for _ in range(50):
        lo, hi = c.moved(rng).double_array_value.data
        assert lo <= hi == 6.0


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert load.pct(values, 50) == 50 and load.pct(values, 95) == 95 and load.pct(values, 100) == 100
    assert load.pct([3.0], 95) == 3.0 and load.pct([], 50) is None


def test_soak_drift_compares_the_last_window_with_the_first_after_warm_up() -> None:
    step = [(float(t), {"a": 50.0 if t < 180 else 100.0 + (10.0 if t >= 480 else 0.0)}) for t in range(0, 601, 10)]
    r = load.soak_drift(step, warm_s=180, window_s=120)
    assert r["rss_total_start_mib"] == 50.0  # the warm-up's growth (caches filling) is not drift
    assert r["rss_total_early_mib"] == 100.0 and r["rss_total_late_mib"] == 110.0
    assert r["rss_drift"] == pytest.approx(0.1) and r["rss_trend_mib_per_hour"] > 0
    flat = [(float(t), {"a": 70.0, "b": 30.0}) for t in range(0, 601, 10)]
    r = load.soak_drift(flat, warm_s=180, window_s=120)
    assert r["rss_drift"] == 0 and r["rss_trend_mib_per_hour"] == pytest.approx(0, abs=1e-9)
    assert load.soak_drift(flat[:5], warm_s=180)["rss_drift"] is None


def test_the_bench_refuses_non_loopback_targets_and_unbounded_runs() -> None:
    with pytest.raises(SystemExit):
        load.parse_args(["load", "--url", "http://example.org"])
    with pytest.raises(SystemExit):
        load.parse_args(["load", "--sessions", "100000"])
    with pytest.raises(SystemExit):
        load.parse_args(["soak", "--duration", "86400"])
    assert load.parse_args(["soak", "--sessions", "20", "--duration", "600"]).sessions == 20


def test_a_live_control_commits_a_frame_value_with_the_next_sequence_number() -> None:
    """The JSON state lossviz/ui/live_chart.js sends on release: {"committed": {"values": [...], "seq": n}}."""
    import json
    from types import SimpleNamespace

    data = {"params": [{"label": "δ (delta)", "values": [0.5, 1.0, 2.0], "index": 1}], "seq": 4, "player": None}
    c = load._control("bidi_component", SimpleNamespace(id="live", bytes=json.dumps(data).encode(), json=""))
    assert c.kind == "live" and c.value == [1.0]
    state = json.loads(c.moved(random.Random(0)).json_value)
    assert state["committed"]["seq"] == 5 and state["committed"]["values"][0] in (0.5, 2.0)
    player = {**data, "player": {"fps": 10.0, "speeds": [1.0]}}
    assert load._control("bidi_component", SimpleNamespace(id="p", bytes=json.dumps(player).encode(), json="")) is None


def test_clicks_flip_a_check_and_pick_another_option() -> None:
    rng = random.Random(2)
    check = slider(lo=0, hi=1, step=1, value=[0.0], kind="check")
    assert check.moved(rng).bool_value is True and check.url_value() == "true"
    choice = slider(lo=0, hi=0, step=1, options=["MSE", "MAE", "Huber"], value=[0.0], kind="choice")
    sent = choice.moved(rng).string_value
    assert sent in ("MAE", "Huber") and choice.url_value() == sent
