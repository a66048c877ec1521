"""The Outlier-sensitivity page in AppTest: renders, every control drives its chart, links restore state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import app_test, errors, exceptions, figure_sizes, figures, same_data, warnings

import lossviz
from lossviz.domains import REAL
from lossviz.spec import LossSpec
from lossviz.studies import outliers as rf
from lossviz.toolkit import fit as fitting

FAST = {"outliers_losses": ["mse", "huber"]}
"""Two cheap losses, for the tests of the data controls (each change refits and resweeps)."""
SWEEPS = {"outliers_view": rf.VIEWS[1]}
"""The link that opens the sweeps' tab (only the open tab of the two under the fit is computed)."""


def _run(query: dict | None = None):
    at = app_test("outliers", timeout=180)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not exceptions(at), exceptions(at)
    return at


def _charts(at) -> dict[str, dict]:
    """The page's figures by role: fits, pull (only with outliers), sensitivity, breakdown."""
    out = {}
    for fig in figures(at):
        title = fig["layout"].get("xaxis", {}).get("title", {}).get("text", "")
        if "of the extra point" in title:
            out["sensitivity"] = fig
        elif "contamination" in title:
            out["breakdown"] = fig
        elif "total pull" in title:
            out["pull"] = fig
        else:
            out["fits"] = fig
    return out


def _lines(fig: dict) -> dict[str, np.ndarray]:
    return {t["name"]: t["y"] for t in fig["data"] if t.get("mode") == "lines"}


def _scatter(fig: dict) -> dict[str, tuple[np.ndarray, np.ndarray, list]]:
    return {
        t["name"]: (t["x"], t["y"], list(np.atleast_1d(t["customdata"])))
        for t in fig["data"] if t.get("mode") == "markers"
    }


@pytest.fixture(scope="module")
def default_page():
    return _run()


@pytest.fixture(scope="module")
def sweeps_page():
    return _run(SWEEPS)


def test_default_page(default_page) -> None:
    at = default_page
    charts = _charts(at)
    assert set(charts) == {"fits", "pull"}  # the sweeps' tab is closed: not computed, not sent
    assert not [r for r in at.radio if r.key == "outliers_estimate"]
    lines = _lines(charts["fits"])
    assert list(lines) == ["mse", "mae", "huber", "log_cosh", "quantile", "barron"]
    # The MSE line is the least-squares line of the plotted (not dropped) points.
    pts = _scatter(charts["fits"])
    x = np.concatenate([pts["clean points"][0], pts["outliers"][0]])
    y = np.concatenate([pts["clean points"][1], pts["outliers"][1]])
    slope, intercept = np.polyfit(x, y, 1)
    x_ends = charts["fits"]["data"][3]["x"]
    np.testing.assert_allclose(lines["mse"], intercept + slope * x_ends, rtol=1e-5, atol=1e-5)
    assert len(pts["outliers"][0]) == rf.N_OUTLIERS.default
    # Robust losses ignore the outliers more than least squares: their slopes are closer to 2.
    slope_of = {n: (v[1] - v[0]) / (x_ends[1] - x_ends[0]) for n, v in lines.items()}
    assert abs(slope_of["huber"] - 2) < abs(slope_of["mse"] - 2)
    assert abs(slope_of["barron"] - 2) < abs(slope_of["mse"] - 2)
    assert not errors(at) and not warnings(at)
    assert max(figure_sizes(at)) < 1_000_000
    latex = [t.value.strip("$\n") for t in at.latex]
    assert lossviz.spec("huber").latex in latex and lossviz.spec("barron").latex in latex
    table = at.dataframe[0].value
    assert list(table.index) == list(lines) and (table["converged"] == "✓").all()


def test_the_sweeps_tab_shows_the_fit_and_both_sweeps_and_a_bad_view_warns(sweeps_page) -> None:
    assert set(_charts(sweeps_page)) == {"fits", "sensitivity", "breakdown"}
    assert not errors(sweeps_page) and not warnings(sweeps_page)
    at = _run({**FAST, "outliers_view": "<i>nope</i>"})
    assert any("outliers_view" in w for w in warnings(at)), warnings(at)
    assert set(_charts(at)) == {"fits", "pull"}


def test_sensitivity_curve_of_least_squares_is_unbounded(sweeps_page) -> None:
    sc = {t["name"]: t["y"] for t in _charts(sweeps_page)["sensitivity"]["data"]}
    mse, huber = sc["mse"], sc["huber"]
    assert np.ptp(np.diff(mse)) < 1e-3 * np.abs(np.diff(mse)).max()  # a straight line
    assert np.abs(mse).max() > 5 * np.abs(huber).max()
    assert huber[0] == pytest.approx(huber[1], abs=1e-4)  # flat far out: the pull is capped


BOTH = ("sensitivity", "breakdown")


@pytest.mark.parametrize(
    ("key", "value", "sweeps"),
    [
        ("outliers_n", 80, BOTH),
        ("outliers_noise", 2.0, BOTH),
        ("outliers_seed", 7, BOTH),
        ("outliers_count", 12, ()),  # the sweeps use the clean data only
        ("outliers_size", -20.0, ("breakdown",)),  # SC sweeps its own point; s only moves the marker line
        ("outliers_position", 0.0, BOTH),
    ],
)
def test_each_data_control_changes_the_charts(key: str, value: float, sweeps: tuple[str, ...]) -> None:
    at = _run({**FAST, **SWEEPS})
    before = _charts(at)
    at.slider(key=key).set_value(value)
    at.run()
    assert not exceptions(at), exceptions(at)
    after = _charts(at)
    assert not same_data(before["fits"], after["fits"])
    for role in BOTH:
        assert same_data(before[role], after[role]) != (role in sweeps), (key, role)
    if key == "outliers_size":
        assert after["sensitivity"]["layout"]["shapes"][0]["x0"] == -20.0


@pytest.mark.parametrize(
    ("key", "value"),
    [("outliers_huber_delta", 0.3), ("outliers_quantile_tau", 0.8), ("outliers_barron_alpha", -2.0),
     ("outliers_barron_scale", 2.0)],
)
def test_each_loss_parameter_moves_its_line_and_curves(key: str, value: float) -> None:
    at = _run(SWEEPS)
    before = _charts(at)
    at.slider(key=key).set_value(value)
    at.run()
    assert not exceptions(at), exceptions(at)
    after = _charts(at)
    loss = key.split("_")[1]
    moved = [n for n in _lines(before["fits"]) if not np.array_equal(_lines(before["fits"])[n], _lines(after["fits"])[n])]
    assert moved == [loss]
    sc_before = {t["name"]: t["y"] for t in before["sensitivity"]["data"]}
    sc_after = {t["name"]: t["y"] for t in after["sensitivity"]["data"]}
    assert not np.array_equal(sc_before[loss], sc_after[loss])


def test_estimate_sweep_and_focus_controls() -> None:
    at = _run({**FAST, **SWEEPS})
    before = _charts(at)
    at.radio(key="outliers_estimate").set_value("location")
    at.run()
    after = _charts(at)
    assert not same_data(before["sensitivity"], after["sensitivity"])
    assert not same_data(before["breakdown"], after["breakdown"])
    at.slider(key="outliers_sweep").set_value(60.0)
    at.run()
    swept = _charts(at)
    assert not same_data(after["sensitivity"], swept["sensitivity"])
    assert swept["sensitivity"]["data"][0]["x"][-1] == pytest.approx(60.0)
    colours = swept["fits"]["data"][0]["marker"]["color"]
    at.selectbox(key="outliers_focus").set_value("huber")
    at.run()
    refocused = _charts(at)["fits"]
    assert not np.array_equal(refocused["data"][0]["marker"]["color"], colours)
    assert "huber" in refocused["layout"]["yaxis2"]["title"]["text"]


def test_query_string_restores_state_and_picks() -> None:
    at = _run({
        "outliers_losses": ["mse", "mae"], "outliers_count": "0", "outliers_n": "40", "outliers_moved": "3,4",
        "outliers_dropped": "5", "outliers_estimate": "intercept",
    })
    assert at.multiselect(key="outliers_losses").value == ["mse", "mae"]
    assert at.slider(key="outliers_n").value == 40 and at.slider(key="outliers_count").value == 0
    assert _run({"outliers_estimate": "intercept", **FAST, **SWEEPS}).radio(key="outliers_estimate").value == "intercept"
    pts = _scatter(_charts(at)["fits"])
    assert pts["outliers"][2] == [3, 4] and pts["dropped (not fitted)"][2] == [5]
    assert len(pts["clean points"][0]) == 37
    data = rf.outlier_data(40, 1.0, 0, rf.OUTLIER_SIZE.default, rf.OUTLIER_POSITION.default, 0, [3, 4], [5])
    mse = fitting.fit_line("mse", data.x, data.y, data.weight)
    table = at.dataframe[0].value
    assert table.loc["mse", "slope b"] == pytest.approx(mse.coef[1], rel=1e-9)
    assert not warnings(at)


@pytest.mark.parametrize(
    ("key", "value", "check"),
    [
        ("outliers_count", "abc", lambda at: at.slider(key="outliers_count").value == rf.N_OUTLIERS.default),
        ("outliers_position", "7", lambda at: at.slider(key="outliers_position").value == 1.0),
        ("outliers_moved", "1,zz,999", lambda at: _scatter(_charts(at)["fits"])["outliers"][2].count(1) == 1),
        ("outliers_losses", ["mse", "nope"], lambda at: at.multiselect(key="outliers_losses").value == ["mse"]),
        ("outliers_estimate", "median", lambda at: at.radio(key="outliers_estimate").value == "slope"),
    ],
)
def test_bad_query_string_warns(key: str, value, check) -> None:
    query = {**FAST, key: value} if key != "outliers_losses" else {key: value}
    if key == "outliers_estimate":
        query |= SWEEPS  # the Track choice is in the sweeps' tab
    at = _run(query)
    assert any(key in w for w in warnings(at)), warnings(at)
    assert check(at)


def test_bad_loss_parameter_in_link_warns() -> None:
    at = _run({**FAST, "outliers_huber_delta": "-3"})
    assert any("outliers_huber_delta" in w for w in warnings(at))
    assert at.slider(key="outliers_huber_delta").value > 0


def _custom(name: str, fn) -> LossSpec:
    return LossSpec(
        name=name, title=name, family="custom", latex=name, use_when=f"test {name}", fn=fn,
        pred_domain=REAL, target_domain=REAL, builtin=False,
    )


@pytest.fixture
def custom_losses():
    store = lossviz.user_losses()
    added = {
        "t_abs": _custom("t_abs", lambda p, y: (p - y).abs()),
        "t_nan": _custom("t_nan", lambda p, y: torch.log(p - y)),
        "t_boom": _custom("t_boom", lambda p, y: (_ for _ in ()).throw(RuntimeError("boom"))),
    }
    store.update(added)
    yield added
    for name in added:
        store.pop(name, None)


def test_custom_losses(custom_losses) -> None:
    at = _run({"outliers_losses": ["mae", "t_abs", "t_nan", "t_boom"]})
    assert any("t_boom" in e and "boom" in e for e in errors(at))
    table = at.dataframe[0].value
    # a custom |p − y| has no declared kinks: IRLS alone gets within 1e-4 of the exact L1 line
    assert table.loc["t_abs", "slope b"] == pytest.approx(table.loc["mae", "slope b"], abs=1e-3)
    assert table.loc["t_nan", "converged"] == "✗"
    assert any("did not reach" in w for w in warnings(at))


def test_removed_custom_loss_leaves_the_selection(custom_losses) -> None:
    at = _run({"outliers_losses": ["mse", "t_abs"]})
    lossviz.user_losses().pop("t_abs")
    at.run()
    assert not exceptions(at), exceptions(at)
    assert at.multiselect(key="outliers_losses").value == ["mse"]


def test_no_loss_selected_shows_a_hint() -> None:
    at = _run({"outliers_losses": ["mse"]})
    at.multiselect(key="outliers_losses").set_value([])
    at.run()
    assert not exceptions(at) and not figures(at)
    assert any("at least one" in i.value for i in at.info)


# --- in the browser: picking points on the chart ---------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="module")
def server():
    """``streamlit run app.py`` on a free port, until the module's tests are done."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    if not Path(CHROMIUM).exists():
        pytest.skip("no chromium")
    pytest.importorskip("playwright")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless=true", f"--server.port={port}",
         "--browser.gatherUsageStats=false"],
        cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _settle(page) -> None:
    import time

    time.sleep(1.0)
    for _ in range(600):
        if page.locator('[data-testid="stStatusWidget"]').count() == 0:
            break
        time.sleep(0.2)
    time.sleep(1.0)


@pytest.mark.browser
@pytest.mark.slow
def test_lasso_selection_turns_points_into_outliers(server) -> None:
    """Lasso a group of clean points, press "Make outliers": they move up and the link records them."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1800})
            page.goto(f"{server}/outliers?outliers_losses=mse&outliers_count=0", timeout=120_000)
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            _settle(page)
            region = page.evaluate("""() => {
                const gd = document.querySelectorAll('.js-plotly-plot')[0];
                const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
                const inside = [];
                const edge = [];  // within 3 px of the lasso's right side: either answer is right
                gd._fullData[0].x.forEach((x, i) => {
                    const px = xa.l2p(x) - xa.l2p(-0.4);
                    if (px < -3) inside.push(gd._fullData[0].customdata[i]);
                    else if (px <= 3) edge.push(gd._fullData[0].customdata[i]);
                });
                return {x0: r.left + xa._offset + xa.l2p(-1.02), x1: r.left + xa._offset + xa.l2p(-0.4),
                        y0: r.top + ya._offset, y1: r.top + ya._offset + ya._length, inside: inside, edge: edge};
            }""")
            assert region["inside"], "no clean points left of x = -0.4"
            page.mouse.move(region["x0"], region["y0"] + 2)
            page.mouse.down()
            for x, y in ((region["x1"], region["y0"] + 2), (region["x1"], region["y1"] - 2),
                         (region["x0"], region["y1"] - 2), (region["x0"], region["y0"] + 4)):
                page.mouse.move(x, y, steps=8)
            page.mouse.up()
            _settle(page)
            page.get_by_role("button", name="Make outliers").click()
            _settle(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            moved = page.evaluate("() => Array.from(document.querySelectorAll('.js-plotly-plot')[0]._fullData[1].customdata)")
            assert set(region["inside"]) <= set(moved) <= set(region["inside"]) | set(region["edge"]), (moved, region)
            assert "outliers_moved=" in page.url
        finally:
            browser.close()


def test_uploaded_csv_is_fitted_and_bad_files_get_messages():
    """Issue 'your own data': an uploaded (x, y) file is fitted by every loss; a bad file is a message."""
    from pathlib import Path

    import numpy as np
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "pages" / "outliers.py"), default_timeout=120)
    at.run()
    at.radio(key="outliers_source").set_value("your CSV file").run()
    assert not at.exception
    example = at.dataframe[0].value  # the housing example, loaded by default
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 10, 200)
    y = 3.0 - 0.5 * x + rng.normal(0, 0.1, 200)
    y[:4] += 50.0
    text = "a,b\n" + "\n".join(f"{u:.6f},{v:.6f}" for u, v in zip(x, y, strict=True))
    at.file_uploader[0].set_value(("mine.csv", text.encode(), "text/csv"))
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert not table.equals(example)
    assert abs(table.loc["mae", "slope b"] + 0.5) < 0.05  # MAE ignores the four gross outliers
    assert abs(table.loc["mse", "intercept a"] - 3.0) > 0.5  # least squares is pulled up by them
    at.file_uploader[0].set_value(("bad.csv", b"a,b\nx,y\n", "text/csv"))
    at.run()
    assert not at.exception
    assert any("two numeric columns" in e.value for e in at.error)
