"""The curves figure builder and the shared styling helpers (lossviz.figures.common)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

import lossviz
from lossviz.figures import common
from lossviz.figures.curves import DOMAINS, TRACES_PER_CURVE, LiveCurves, figure_loss_curves
from lossviz.studies import curves as lc
from tests.figure_helpers import as_array, figure_bytes, frames_of, sent_dtype, validated


def _curves(names=("mse", "mae", "huber"), zoom: float = 1.0, **params: dict) -> list[lc.Curve]:
    x = lc.x_grid(lc.natural_axis(names[0]), zoom)
    return [lc.loss_curve(n, x, 0.0, params.get(n, {})) for n in names]


def _live(curves: list[lc.Curve], loss: str = "huber") -> tuple[LiveCurves, tuple[float, ...]]:
    """The live loss's curves at each frame value of its live parameter, and those values."""
    (param,) = lc.live_parameters([loss])[1]
    values = lc.frame_values(param)
    sweep = lc.parameter_sweep(loss, lc.frame_settings([(param.name, values)]), curves[0].x, 0.0, {})
    return LiveCurves(loss, sweep), values


def _y(trace) -> np.ndarray:
    return as_array(trace["y"] if isinstance(trace, dict) else trace.y)


def test_figure_validates_and_plots_every_curve_in_float32() -> None:
    curves = _curves()
    fig = validated(figure_loss_curves(curves, x_label="residual", symbol="r"))
    assert len(fig.data) == TRACES_PER_CURVE * len(curves)
    for i, curve in enumerate(curves):
        value, grad, curvature, markers, lines = fig.data[TRACES_PER_CURVE * i : TRACES_PER_CURVE * (i + 1)]
        assert value.name == curve.name and value.showlegend and not grad.showlegend
        assert sent_dtype(value.x) == sent_dtype(value.y) == "f4"
        np.testing.assert_array_equal(as_array(value.x), curve.x.astype(np.float32))
        np.testing.assert_array_equal(_y(value), curve.value.astype(np.float32))
        np.testing.assert_array_equal(_y(grad), curve.grad.astype(np.float32))
        np.testing.assert_array_equal(_y(curvature), curve.curvature.astype(np.float32))
        assert (value.yaxis, grad.yaxis, curvature.yaxis) == ("y2", "y3", "y4")
        assert (markers.xaxis, markers.yaxis) == ("x2", "y2")  # on the value curve
        assert list(markers.x) == [k for k, _ in curve.kinks]
        assert (lines.xaxis, lines.yaxis) == ("x", "y")  # one trace through all three panels
        assert list(lines.x) == [v for k, _ in curve.kinks for _ in DOMAINS for v in (k, k, None)]
    assert fig.layout.xaxis2.matches == fig.layout.xaxis3.matches == fig.layout.xaxis.matches == "x4"
    assert fig.layout.xaxis4.title.text == "residual"
    # the kink lines' axis spans the plot's height, so 0 … 1 on it is paper height: a segment per panel domain; its
    # subplot is the first, under the panels', which take hover and zoom
    assert list(fig.layout.yaxis.domain) == [0, 1] and list(fig.layout.yaxis.range) == [0, 1]
    assert not fig.layout.yaxis.visible and fig.layout.yaxis.overlaying is None
    assert fig.layout.yaxis2.type == "linear" and not fig.frames


def test_kinks_are_marked_on_the_value_curve_and_as_lines() -> None:
    curves = _curves(("mae", "huber"), huber={"delta": 0.5})
    fig = validated(figure_loss_curves(curves, x_label="r", symbol="r"))
    huber_markers = fig.data[TRACES_PER_CURVE + 3]
    assert list(huber_markers.x) == [-0.5, 0.5]
    np.testing.assert_allclose(as_array(huber_markers.y), [0.125, 0.125], rtol=1e-6)
    assert list(huber_markers.marker.symbol) == ["diamond-open", "diamond-open"]
    mae_markers = fig.data[3]
    assert list(mae_markers.x) == [0.0] and list(mae_markers.marker.symbol) == ["x"]
    lines = fig.data[TRACES_PER_CURVE + 4]
    assert list(lines.x) == [-0.5, -0.5, None] * 3 + [0.5, 0.5, None] * 3
    panels = [v for lo, hi in DOMAINS for v in (lo, hi, None)]
    assert list(lines.y) == panels * 2  # each kink: from the bottom to the top of each panel, not across the gaps


def test_abs_gradient_and_log_scale() -> None:
    curves = _curves()
    fig = validated(figure_loss_curves(curves, x_label="r", symbol="r", log_y=True, abs_grad=True))
    np.testing.assert_array_equal(_y(fig.data[1]), np.abs(curves[0].grad).astype(np.float32))
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis3.type == "log"
    assert fig.layout.yaxis4.type == "linear"
    assert fig.layout.yaxis3.title.text == "|∂L/∂r|"
    signed = validated(figure_loss_curves(curves, x_label="r", symbol="r", log_y=True))
    assert signed.layout.yaxis3.type == "linear"  # a signed gradient cannot go on a log axis


def _assert_frames_move_the_live_loss(fig: dict, first: int, expected: list[lc.Curve]) -> None:
    frames = frames_of(fig)
    assert len(frames) == len(expected)
    for frame, moved in zip(frames, expected, strict=True):
        assert list(frame["traces"]) == list(range(first, first + TRACES_PER_CURVE))
        for panel, numbers in enumerate((moved.value, moved.grad, moved.curvature)):
            np.testing.assert_array_equal(_y(frame["data"][panel]), numbers.astype(np.float32))
        assert list(frame["data"][3]["x"]) == [k for k, _ in moved.kinks]
        assert list(frame["data"][4]["x"]) == [v for k, _ in moved.kinks for _ in DOMAINS for v in (k, k, None)]


def test_live_figure_has_a_frame_per_value_equal_to_the_study_s_curve_there() -> None:
    curves = _curves()
    live, values = _live(curves)
    fig = figure_loss_curves(curves, x_label="r", symbol="r", live=live)
    validated(fig)
    assert set(fig) == {"data", "layout", "frames"} and "sliders" not in fig["layout"]
    huber = lossviz.spec("huber")
    expected = [lc.loss_curve(huber, curves[0].x, 0.0, {"delta": v}) for v in values]  # lossviz's own numbers
    _assert_frames_move_the_live_loss(fig, TRACES_PER_CURVE * 2, expected)
    assert len(values) == len(frames_of(fig)) and 1.0 in values


def test_pad_frame_i_ny_plus_j_is_barron_at_alpha_i_and_c_j() -> None:
    barron = lossviz.spec("barron")
    alpha, scale = (lc.frame_values(barron.param(n), lc.PAD_COUNT) for n in ("alpha", "scale"))
    x = lc.x_grid(lc.natural_axis("barron"), 1.0, lc.PAD_POINTS)
    sweep = lc.parameter_sweep("barron", lc.frame_settings([("alpha", alpha), ("scale", scale)]), x, 0.0, {})
    others = [lc.loss_curve(n, lc.x_grid(lc.natural_axis(n)), 0.0, {}) for n in ("cauchy", "tukey_biweight")]
    fig = figure_loss_curves([sweep[0], *others], x_label="r", symbol="r", live=LiveCurves("barron", sweep))
    validated(fig)
    expected = [lc.loss_curve(barron, x, 0.0, {"alpha": a, "scale": c}) for a in alpha for c in scale]
    _assert_frames_move_the_live_loss(fig, 0, expected)
    size = figure_bytes(fig)
    assert size < 1_500_000, size


def test_live_curves_off_the_drawn_grid_are_refused() -> None:
    curves = _curves()
    live, _ = _live(_curves(zoom=2.0))
    with pytest.raises(ValueError, match="x grid"):
        figure_loss_curves(curves, x_label="r", symbol="r", live=live)


def test_live_curves_of_a_loss_not_drawn_are_ignored() -> None:
    curves = _curves(("mse", "mae"))
    fig = figure_loss_curves(curves, x_label="r", symbol="r", live=_live(_curves())[0])
    assert set(fig) == {"data", "layout"} and "sliders" not in fig["layout"]


def test_six_losses_with_a_live_parameter_stay_under_one_megabyte() -> None:
    names = ("huber", "mse", "mae", "smooth_l1", "log_cosh", "quantile")
    curves = _curves(names, zoom=8.0)
    size = figure_bytes(figure_loss_curves(curves, x_label="r", symbol="r", live=_live(curves)[0]))
    assert size < 1_000_000, size


def test_nan_values_stay_gaps() -> None:
    curve = _curves(("mse",))[0]
    value = curve.value.copy()
    value[10:20] = np.nan
    broken = lc.Curve("broken", curve.x, value, curve.grad, curve.curvature)
    fig = validated(figure_loss_curves([broken], x_label="p"))
    y = _y(fig.data[0])
    assert np.isnan(y[10:20]).all() and np.isfinite(y[:10]).all()
    assert fig.data[0].connectgaps is False


# --- shared styling ----------------------------------------------------------------------------------


def test_loss_colours_are_stable_and_distinct_within_a_figure() -> None:
    assert common.loss_color("mse") == common.PALETTE[0]
    assert common.loss_color("some_custom") == common.loss_color("some_custom")
    names = [f"loss_{i}" for i in range(len(common.PALETTE))]
    colours = common.loss_colors(names)
    assert len(set(colours.values())) == len(common.PALETTE)
    assert common.loss_colors(["bce", "mse"]) == {"bce": common.PALETTE[0], "mse": common.PALETTE[1]}


def test_f32_keeps_nan_and_clips_instead_of_overflowing() -> None:
    out = common.f32([1.0, np.nan, 1e300, -1e300, np.inf])
    assert out.dtype == np.float32
    assert out[0] == 1.0 and np.isnan(out[1])
    assert out[2] == np.float32(common.FLOAT32_MAX) and out[3] == -np.float32(common.FLOAT32_MAX)
    assert out[4] == np.inf


@pytest.mark.parametrize(
    ("latex", "plain"),
    [(r"\delta", "δ"), (r"\varepsilon", "ε"), (r"\epsilon", "ϵ"), ("m", "m"), (r"\sigma_{0}", "σ0")],
)
def test_plain_symbol(latex: str, plain: str) -> None:
    assert common.plain_symbol(latex) == plain


def test_apply_layout() -> None:
    fig = common.apply_layout(go.Figure(), height=300, title="T", showlegend=False)
    assert fig.layout.height == 300 and fig.layout.title.text == "T" and fig.layout.showlegend is False
    assert fig.layout.legend.orientation == "h"


def test_dashed_curves_keep_their_colour_and_only_their_lines_dash() -> None:
    fig = validated(figure_loss_curves(_curves(("mse", "huber")), x_label="r", dashed=["huber"]))
    mse, huber = fig.data[:TRACES_PER_CURVE], fig.data[TRACES_PER_CURVE:]
    assert [t.line.dash for t in huber[:3]] == ["dash"] * 3 and huber[4].line.dash == "dot"  # kink lines stay dotted
    assert all(t.line.dash == "solid" for t in mse[:3]) and huber[0].line.color != mse[0].line.color
