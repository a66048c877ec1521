"""Live charts: one control that moves a Plotly chart in the browser while dragged and reaches the script once.

``live_chart(figure, param, key)`` draws ``figure`` with plotly.js and, under it, one labelled range input for
``param``. Dragging it (pointer, touch, arrow keys, Home/End, PageUp/PageDown) shows the figure's precomputed
frame of that position at once, in the browser, with no message to the server; releasing it (pointer up,
key up) commits the value once. The call returns the committed value, which the page hands to its other
charts; it is bound to the URL under ``key`` like a ``bind="query-params"`` widget (a link restores it; a
malformed link value gives a warning and falls back, through :func:`lossviz.ui.url_state.parse_number`).
``live_pad(figure, (px, py), key)`` does the same for two parameters: a small plane whose point is dragged,
with two labelled range inputs beside it as its accessible, keyboard-operable form; both values are
committed together on release, bound to the URL under ``control_key(key, name)`` each.
``live_chart(figure, param, key, player=True)`` makes the control a time control (a recorded training run, an
optimiser's steps): Play/Pause, step back and forward, jump to start and end and a speed choice around the
same range input (the scrubber). It starts at the parameter's default (the end of the run), and playing,
stepping and scrubbing all draw in the browser through the same frame-drawing path as a drag; a player never
sends anything to the server, and its position is not in the URL.

A live figure is plain Plotly JSON (typed arrays as ``{"dtype", "bdata"}`` allowed)::

    {"data": [trace, ...], "layout": {...},
     "frames": [{"data": [partial trace, ...], "traces": [trace index, ...]}, ...],
     "narrow": {relayout path: value, ...},              # optional: the layout below 600 px (a phone)
     "narrow_traces": {"trace index": {path: value}}}   # optional: trace styles there

Frame ``k`` shows ``param.values[k]``; a pad's frames form a grid, frame ``i * ny + j`` showing
``(px.values[i], py.values[j])`` with ``ny = len(py.values)``. A frame's ``data`` moves the traces it names
(``Plotly.animate``; traces of a type Plotly cannot animate, such as heatmaps and contours, redraw the plot,
which is slower); a frame's ``layout`` replaces those top-level layout keys (``Plotly.relayout``, which
redraws only what they change). A frame with an empty ``data`` list is a layout change alone, much the
fastest: ``Plotly.animate`` re-derives every trace of the figure at each frame, even unchanged ones, so a
figure of many traces that moves only shapes and images (see :mod:`lossviz.figures.live`) plays at a few
milliseconds a frame.
``layout.sliders`` and ``layout.updatemenus`` are dropped: the component's control replaces Plotly's own
slider and play button.

The control only stops on frame values, so a value from a link, a default, or the browser is snapped to the
nearest frame (nearest in log for log-scale parameters) and the URL then holds that frame's shown text.

How plotly.js reaches the browser: the component's JS adds one ``<script>`` per page for the
``plotly.min.js`` of the installed plotly package (the plotly.js version that Python's plotly targets),
served by Streamlit itself from that package's folder: ``streamlit.components.v1.declare_component(name,
path=...)`` is the public API that makes Streamlit serve a folder's files, under ``/component/<name>/``
(the URL that Streamlit's frontend builds for such components). Nothing is copied and nothing is configured:
the file is served where pip put it, by any ``streamlit run``, from any main script. The alternatives:

- ``server.enableStaticServing`` serves ``static/`` beside the main script, so the 4.8 MB file would have to
  be copied there at start, and the image's code is read-only (Dockerfile: root-owned, never written; k8s:
  ``readOnlyRootFilesystem``); the folder also depends on which script is the main one (``app.py`` or a
  test app).
- A components-v2 ``asset_dir`` is found only in an installed distribution's ``pyproject.toml`` (lossviz is
  run from its source tree, not installed) and would still need the file copied inside it.
- Sending the file's text as component data costs its 4.8 MB on every rerun of every page that shows one.
- The plotly.js that Streamlit's frontend bundles for ``st.plotly_chart`` is not exposed by any public API.

The script is loaded once per browser page (Streamlit's own navigation keeps the page) and, like every
response of that route, is not cached across page loads: 4.8 MB, 1.48 MB with the gzip that Streamlit applies
to it on every request (measured: 0.47-0.54 s of server CPU each, on a busy 2-core machine).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import math
import os
import re
import shutil
import unicodedata
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import plotly
import streamlit as st
import streamlit.components.v1 as components_v1
from streamlit.errors import StreamlitAPIException

from lossviz.spec import Param
from lossviz.ui import classroom, url_state
from lossviz.ui.controls import control_key

_HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

_COMPONENT = st.components.v2.component(
    "lossviz_live_chart",
    html='<div class="lossviz-live"></div>',
    css=(_HERE / "live_chart.css").read_text(encoding="utf-8"),
    js=(_HERE / "live_chart.js").read_text(encoding="utf-8"),
    # plotly.js styles its plots (its SVG layers, the mode bar) from rules it adds to the document's head,
    # which a shadow root would not see; the component's own CSS is scoped by class instead.
    isolate_styles=False,
)

# ---------------------------------------------------------------------------------------------- labels

_GREEK = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
    "upsilon phi chi psi omega"
).split()
_LETTERS = {
    **{name: unicodedata.lookup(f"GREEK SMALL LETTER {name.upper().replace('LAMBDA', 'LAMDA')}") for name in _GREEK},
    **{
        name.capitalize(): unicodedata.lookup(f"GREEK CAPITAL LETTER {name.upper().replace('LAMBDA', 'LAMDA')}")
        for name in _GREEK
    },
    "varepsilon": "ε",
    "varphi": "φ",
    "vartheta": "ϑ",
    "varnothing": "∅",
    "emptyset": "∅",
    "infty": "∞",
    "ell": "ℓ",
}
_SUBSCRIPT = str.maketrans("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUPERSCRIPT = str.maketrans("0123456789+-=()in", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿ")


def _script(text: str, table: dict[int, int], mark: str) -> str:
    """``text`` in sub- or superscript characters when Unicode has them all, else ``mark + text``."""
    return text.translate(table) if all(ord(c) in table for c in text) else mark + text


def plain_symbol(latex: str) -> str:
    """A parameter's LaTeX symbol as plain text for a label and a screen reader: δ for ``\\delta``, λ₁ for
    ``\\lambda_1``, σ² for ``\\sigma^2``, Δx for ``\\Delta x``, aₘₐₓ for ``a_{max}`` (``a_max`` where Unicode
    lacks a subscript letter)."""
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _LETTERS.get(m[1], m[1]), latex)
    text = re.sub(r"_\{([^}]*)\}|_(.)", lambda m: _script(m[1] or m[2], _SUBSCRIPT, "_"), text)
    text = re.sub(r"\^\{([^}]*)\}|\^(.)", lambda m: _script(m[1] or m[2], _SUPERSCRIPT, "^"), text)
    return re.sub(r"[\s{}\\]", "", text)  # math mode ignores spaces; braces only group


# ------------------------------------------------------------------------------------------ frame values


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits, without an exponent between 1e-4 and 1e6."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if not -4 <= exponent < 6:
        return f"{value:.{digits}g}"
    decimals = max(0, digits - 1 - exponent)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


def frame_texts(values: Sequence[float], fmt: str = "") -> tuple[str, ...]:
    """The shown text of each frame value: ``format(v, fmt)``, or with ``fmt`` empty the fewest significant
    digits (2 to 6) that move no value by more than 1/10 of its distance to the nearest other frame, so that
    neighbouring frames read differently and a text read back from a link snaps to its own frame."""
    if fmt:
        return tuple(format(v, fmt) for v in values)
    gaps = np.diff(np.asarray(values, dtype=float))
    nearest_gap = np.minimum(np.r_[np.inf, gaps], np.r_[gaps, np.inf])
    for digits in range(2, 7):
        texts = tuple(_significant(v, digits) for v in values)
        if all(abs(float(t) - v) <= gap / 10 for t, v, gap in zip(texts, values, nearest_gap, strict=True)):
            break
    return texts


@dataclass(frozen=True)
class LiveParam:
    """A parameter that a live chart steps through: its declaration and the value of each frame.

    ``values`` are the frame values, strictly increasing and valid for ``param`` (frame ``k`` shows
    ``values[k]``); ``fmt`` is a format spec for the shown value, empty for :func:`frame_texts`' choice.
    """

    param: Param
    values: tuple[float, ...]
    fmt: str = ""

    def __post_init__(self) -> None:
        values = tuple(float(v) for v in self.values)
        object.__setattr__(self, "values", values)  # any sequence or array in; a hashable tuple kept
        if len(values) < 2:
            raise ValueError(f"a live {self.param.name!r} needs at least 2 frame values, got {len(values)}")
        if any(b <= a for a, b in itertools.pairwise(values)):
            raise ValueError(f"the frame values of {self.param.name!r} must be strictly increasing")
        invalid = [v for v in values if not self.param.contains(v)]
        if invalid:
            raise ValueError(f"frame value {invalid[0]:g} of {self.param.name!r} is outside {self.param.range_text}")

    @property
    def symbol(self) -> str:
        """The plain-text symbol, or the name for a parameter without one."""
        return plain_symbol(self.param.symbol) if self.param.symbol else self.param.name

    @property
    def label(self) -> str:
        """The control's accessible name: symbol and name, e.g. ``δ (delta)`` (``k`` alone where they agree)."""
        return f"{self.symbol} ({self.param.name})" if self.symbol != self.param.name else self.param.name

    @cached_property
    def texts(self) -> tuple[str, ...]:
        return frame_texts(self.values, self.fmt)

    @cached_property
    def _positions(self) -> tuple[float, ...]:
        """The frames where nearness is measured: their logs for a log-scale parameter with positive frames."""
        if self.param.scale == "log" and self.values[0] > 0:
            return tuple(math.log(v) for v in self.values)
        return self.values

    def index(self, value: float) -> int:
        """The frame nearest ``value`` (nearest in log for a log-scale parameter with positive frames; the lower
        one of two equally near)."""
        logs = self._positions is not self.values
        if logs and value <= 0:
            logs, positions = False, self.values
        else:
            positions = self._positions
        x = math.log(value) if logs else value
        k = bisect.bisect_left(positions, x)
        if k == 0:
            return 0
        if k == len(positions):
            return k - 1
        return k if positions[k] - x < x - positions[k - 1] else k - 1

    def snap(self, value: float) -> float:
        return self.values[self.index(value)]

    def text(self, value: float) -> str:
        return self.texts[self.index(value)]

    @property
    def default(self) -> float:
        """The frame nearest the declared default: the value when the link has none."""
        return self.snap(self.param.default)


# -------------------------------------------------------------------------------- state and payload


def committed_values(state: Any, params: Sequence[LiveParam]) -> tuple[tuple[float, ...], int] | None:
    """The values and sequence number of the browser's last commit, from the component's state
    ``{"values": [v, ...], "seq": n}``, each value snapped to its frame; None when the state is missing or
    malformed (the caller then uses the link or the defaults)."""
    if not isinstance(state, Mapping):
        return None
    values, seq = state.get("values"), state.get("seq")
    if not isinstance(values, list) or len(values) != len(params) or not isinstance(seq, int):
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
        return None
    return tuple(p.snap(float(v)) for p, v in zip(params, values, strict=True)), seq


def link_value(raw: str | None, param: LiveParam, key: str) -> url_state.UrlValue:
    """The value a link gives ``param`` (its frame default without one), snapped to a frame; a malformed or
    out-of-range link value comes with the warning of :func:`lossviz.ui.url_state.parse_number`."""
    if raw is None:
        return url_state.UrlValue(param.default)
    parsed = url_state.parse_number(raw, param.param, key)
    return url_state.UrlValue(param.snap(float(parsed.value)), parsed.warning)


@dataclass(frozen=True)
class _Encoded:
    """A figure as the component draws it: its JSON text (UTF-8) and a digest of it."""

    figure: Mapping[str, Any]
    text: bytes
    digest: str


_ENCODED: OrderedDict[int, _Encoded] = OrderedDict()
ENCODED_FIGURES = 32
"""Encoded figures kept by the process (by the identity of the figure object: pages keep their figures across
reruns, so a rerun that changes nothing on a chart re-encodes nothing)."""


def _encoded(figure: Mapping[str, Any], frame_count: int) -> _Encoded:
    """The figure as the component draws it (``layout.sliders`` and ``updatemenus`` dropped), checked and encoded
    once per figure object: encoding a figure of hundreds of frames (1 MB or more of JSON) costs tens of
    milliseconds, which every rerun of a page would otherwise pay again."""
    found = _ENCODED.get(id(figure))
    if found is not None and found.figure is figure:
        _ENCODED.move_to_end(id(figure))
        return found
    frames = figure.get("frames")
    if not isinstance(frames, list) or len(frames) != frame_count:
        got = len(frames) if isinstance(frames, list) else "no"
        raise ValueError(f"a live figure needs one frame per value ({frame_count}), got {got} frames")
    if not all(isinstance(f, Mapping) and isinstance(f.get("data"), list) for f in frames):
        raise ValueError("every frame of a live figure needs a 'data' list of partial traces")
    layout = {k: v for k, v in figure.get("layout", {}).items() if k not in ("sliders", "updatemenus")}
    plain = {"data": list(figure.get("data", [])), "layout": layout, "frames": frames}
    for phone in ("narrow", "narrow_traces"):  # the layout (and trace styles) for a phone, see figures.live
        if figure.get(phone):
            plain[phone] = dict(figure[phone])
    try:
        # The browser parses strict JSON: no NaN, no NumPy arrays (a typed array is {"dtype", "bdata"}).
        text = json.dumps(plain, allow_nan=False, separators=(",", ":")).encode()
    except (TypeError, ValueError) as error:
        raise ValueError(f"a live figure must be plain JSON (lists, typed arrays as dtype/bdata): {error}") from error
    encoded = _Encoded(figure, text, hashlib.blake2b(text, digest_size=12).hexdigest())
    _ENCODED[id(figure)] = encoded
    while len(_ENCODED) > ENCODED_FIGURES:
        _ENCODED.popitem(last=False)
    return encoded


PLAYER_SPEEDS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
"""The speeds a player offers, as multiples of :data:`PLAYER_FPS`."""
PLAYER_FPS = 10.0
"""Frames per second of a player at speed 1×: a 101-frame run plays in ten seconds."""


def _controls(
    params: Sequence[LiveParam],
    values: Sequence[float],
    seq: int,
    plotly_url: str,
    player: bool,
    hidden: Sequence[bool],
    locked: Sequence[bool],
    url_keys: Sequence[str | None],
) -> dict[str, Any]:
    """Everything of the component's data but the figure."""
    if player and len(params) != 1:
        raise ValueError(f"a player steps through one parameter, got {len(params)}")
    hidden = tuple(hidden) or (False,) * len(params)
    locked = tuple(locked) or (False,) * len(params)
    url_keys = tuple(url_keys) or (None,) * len(params)
    return {
        "params": [
            {
                "label": p.label,
                "symbol": p.symbol,
                "values": list(p.values),
                "texts": list(p.texts),
                "index": p.index(v),
                "hidden": h,
                "locked": lk,
                "url_key": k,
            }
            for p, v, h, lk, k in zip(params, values, hidden, locked, url_keys, strict=True)
        ],
        "seq": seq,
        "plotly_url": plotly_url,
        "player": {"fps": PLAYER_FPS, "speeds": list(PLAYER_SPEEDS)} if player else None,
    }


def live_payload(
    figure: Mapping[str, Any],
    params: Sequence[LiveParam],
    values: Sequence[float],
    seq: int,
    plotly_url: str,
    player: bool = False,
    hidden: Sequence[bool] = (),
    locked: Sequence[bool] = (),
    url_keys: Sequence[str | None] = (),
) -> bytes:
    """The component's data as the UTF-8 JSON it receives: the figure, each parameter's label, frame values and
    texts and the frame of its committed value, whether a classroom link hides or locks its control
    (``hidden``/``locked``, one flag per parameter, none by default), the URL key that holds its value
    (``url_keys``; none for a player), the sequence number of the last commit, where plotly.js is served, and
    for a player its frame rate at 1× and speeds (``None`` otherwise). Built around the figure's cached encoding.

    Sent as bytes, Streamlit forwards it as it is and identifies it by one hash; a dict would be serialised
    twice more on every rerun (once to send, once sorted to identify the element).
    """
    controls = _controls(params, values, seq, plotly_url, player, hidden, locked, url_keys)
    encoded = _encoded(figure, math.prod(len(p.values) for p in params))
    rest = json.dumps({"figure_id": encoded.digest, **controls}, allow_nan=False, separators=(",", ":")).encode()
    return b'{"figure":' + encoded.text + b"," + rest[1:]


# -------------------------------------------------------------------------------------------- Streamlit


STATIC_PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"
"""plotly.js's name in the app's static folder: the version names the content, so a browser may keep it."""
_serve_static_plotly_js = False
"""Set by :func:`publish_plotly_js` (app start): whether live charts load plotly.js from the static folder."""


def publish_plotly_js(static_dir: Path) -> bool:
    """Put the installed package's plotly.js into ``static_dir`` (Streamlit's ``server.enableStaticServing``
    folder, beside the main script) as :data:`STATIC_PLOTLY_JS`, so that live charts load it from there.

    Why: Streamlit serves a component's files with neither a validator nor a lifetime, so every page load would
    fetch and parse 4.8 MB again (about 0.5 s of server CPU to gzip it); its static route sends ``ETag`` and
    ``Last-Modified``. The file is a hard link to the package's (or a copy with its time stamp, across file
    systems), never a copy in git; the Docker image makes it at build time. Where the folder cannot be written
    (a read-only checkout), returns False and live charts keep loading plotly.js from the component route.
    """
    global _serve_static_plotly_js
    target = static_dir / STATIC_PLOTLY_JS
    if not target.is_file() or target.stat().st_size != PLOTLY_JS.stat().st_size:
        try:
            static_dir.mkdir(exist_ok=True)
            partial = static_dir / f".{STATIC_PLOTLY_JS}.{os.getpid()}"
            partial.unlink(missing_ok=True)
            try:
                os.link(PLOTLY_JS, partial)
            except OSError:
                shutil.copy2(PLOTLY_JS, partial)
            os.replace(partial, target)  # atomic: replicas sharing the folder never see half a file
        except OSError:
            _serve_static_plotly_js = False
            return False
    _serve_static_plotly_js = bool(st.get_option("server.enableStaticServing"))
    return _serve_static_plotly_js


def _plotly_js_url() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    prefix = f"/{base}" if base else ""
    if _serve_static_plotly_js:
        return f"{prefix}/app/static/{STATIC_PLOTLY_JS}"
    # Registers the installed plotly package's data folder for serving (only possible during a script run;
    # repeating it is a dictionary update).
    served = components_v1.declare_component("plotly_js", path=str(PLOTLY_JS.parent))
    # The version in the query names the file's content: a proxy may let browsers keep it (deploy/nginx).
    return f"{prefix}/component/{served.name}/{PLOTLY_JS.name}?v={plotly.__version__}"


def _ignore() -> None:
    """The component needs a callback for its state to be a state; the rerun itself is what counts."""


def _current(
    params: Sequence[LiveParam], key: str, url_keys: Sequence[str]
) -> tuple[tuple[tuple[float, ...], int], list[str]]:
    """The committed values and sequence number of the control ``key``: the browser's last commit, or on the
    first run of this key the link's values (with a warning for each malformed one)."""
    stored = st.session_state[key].get("committed") if key in st.session_state else None
    committed = committed_values(stored, params)
    if committed is not None:
        return committed, []
    restored = [link_value(st.query_params.get(k), p, k) for p, k in zip(params, url_keys, strict=True)]
    return (tuple(r.value for r in restored), 0), [r.warning for r in restored if r.warning]


def live_value(param: LiveParam, key: str) -> float:
    """The value :func:`live_chart` with this ``key`` will return, known before its figure is built: a page
    computes what depends on the value (other charts, downloads) and then draws the live chart."""
    (value,), _seq = _current([param], key, [key])[0]
    return value


def pad_values(params: tuple[LiveParam, LiveParam], key: str) -> tuple[float, float]:
    """The values :func:`live_pad` with this ``key`` will return, known before its figure is built."""
    (vx, vy), _seq = _current(params, key, [control_key(key, p.param.name) for p in params])[0]
    return vx, vy


def forget_switched_controls(keys: Iterable[str], live_keys: Collection[str]) -> None:
    """Drop the session state each of ``keys`` kept from its other control. A parameter's key holds a slider's
    number while the parameter is not live and the live control's state (a mapping) while it is (its key in
    ``live_keys``); each control would misread the other's (a slider given a mapping turns into a range
    slider). Without it, both controls start from the link, which keeps the value across the switch."""
    for key in keys:
        if key in st.session_state and isinstance(st.session_state[key], Mapping) != (key in live_keys):
            del st.session_state[key]


def commit_value(key: str, *values: float) -> None:
    """Move the live control ``key`` to ``values`` from a callback (before the control is drawn), as if the
    browser had committed them: its next sequence number, so that the browser takes the values over its own."""
    stored = st.session_state[key].get("committed") if isinstance(st.session_state.get(key), Mapping) else None
    seq = stored.get("seq") if isinstance(stored, Mapping) else None
    st.session_state[key] = {"committed": {"values": list(values), "seq": (seq if isinstance(seq, int) else 0) + 1}}


def _mount(
    figure: Mapping[str, Any], params: Sequence[LiveParam], key: str, url_keys: Sequence[str]
) -> tuple[float, ...]:
    committed, warnings = _current(params, key, url_keys)
    for warning in warnings:
        st.warning(warning, icon=":material/warning:")
    values, seq = committed
    # Classroom links hide or lock a control by its URL key, as for every other control (lossviz.ui.classroom).
    shown = [classroom.view(k) for k in url_keys]
    _COMPONENT(
        key=key,
        data=live_payload(figure, params, values, seq, _plotly_js_url(), hidden=[h for h, _ in shown],
                          locked=[lk for _, lk in shown], url_keys=url_keys),
        default={"committed": {"values": list(values), "seq": seq}},
        on_committed_change=_ignore,
    )
    for p, k, v in zip(params, url_keys, values, strict=True):
        try:
            if v == p.default:  # like a bound widget: the link omits defaults
                if k in st.query_params:
                    del st.query_params[k]
            elif st.query_params.get(k) != p.text(v):
                st.query_params[k] = p.text(v)
        except StreamlitAPIException:
            # The key is still bound to the slider the parameter had on the last run (a switch of the live
            # parameter): Streamlit unbinds it, and drops its entry, at the end of this run; the next run writes it.
            pass
    return values


def live_chart(figure: Mapping[str, Any], param: LiveParam, key: str, *, player: bool = False) -> float:
    """``figure`` with a live control for ``param`` under it; returns the committed value (a frame value).

    ``key`` is both the Streamlit key and the URL key (unique across pages, like ``curves_huber_delta``).
    With ``player`` the control is a time control that starts at ``param``'s default and commits nothing
    (see the module's docstring); the call returns that default.
    """
    if player:
        _COMPONENT(key=key, data=live_payload(figure, [param], [param.default], 0, _plotly_js_url(), player=True))
        return param.default
    (value,) = _mount(figure, [param], key, [key])
    return value


def live_pad(figure: Mapping[str, Any], params: tuple[LiveParam, LiveParam], key: str) -> tuple[float, float]:
    """``figure`` with a 2-D pad for ``params`` (x, y) under it; returns both committed values.

    Frame ``i * len(params[1].values) + j`` shows ``(params[0].values[i], params[1].values[j])``. The URL
    keys are ``control_key(key, name)`` of each parameter.
    """
    x, y = params
    if x.param.name == y.param.name:
        raise ValueError(f"a pad needs two different parameters, got {x.param.name!r} twice")
    vx, vy = _mount(figure, params, key, [control_key(key, p.param.name) for p in params])
    return vx, vy
