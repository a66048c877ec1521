"""Simulated students for a lossviz deployment: load, soak and failover tests over Streamlit's own protocol.

Each simulated student is what a browser tab is to the server: it GETs the page (nginx hands out
its route cookie), opens the session WebSocket ``/_stcore/stream`` with that cookie, sends a
``BackMsg.rerun_script`` (``ClientState``: page, query string, widget states) and reads
``ForwardMsg``s (``new_session``, ``delta``, ``page_info_changed``, ``script_finished`` ...) until
the run has finished. It then moves a slider of the page -- found among the page's own slider
elements, so no page-specific code -- and measures the **control-to-chart latency**: from sending
the new widget state to the first ``delta`` that carries a Plotly chart, and to ``script_finished``
(whole page updated). Browsers additionally download the static JavaScript once and draw the chart
(≈ 150-200 ms for our figure sizes, see /work/shared/STREAMLIT.md); neither is server load.

Modes (all bounded in sessions and time, loopback only):

    python bench/load.py load --url http://127.0.0.1:8700 --sessions 40 --duration 60
    python bench/load.py soak --sessions 20 --duration 600 --pages all
    python bench/load.py failover --sessions 30 --duration 60 --kill-at 20

``--run-dir`` (default /tmp/lossviz-cluster, written by deploy/run_local.sh) gives the replicas'
pid files: server memory is their RSS from /proc/<pid>/status, and failover kills one of them.
Results go to stdout and, with ``--json PATH``, to a file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

REPLICA_HEADER = "X-Lossviz-Replica"  # set by deploy/nginx/nginx.conf on the WebSocket handshake
MAX_LIMITS = {"sessions": 200, "duration": 3600.0}  # loopback bench, never a flood

# --------------------------------------------------------------------------------------------------
# Protocol client


KINDS = tuple[tuple[str, ...], ...]
# What each student of the classroom mix moves, in order of preference (a page without the first kind falls back
# on the next): a dragger drags live controls and commits on release (on a page without one, an st.slider's
# release is the same message: one rerun); a clicker picks a select or flips a toggle.
ROLES: dict[str, KINDS] = {
    "drag": (("live",), ("slider",), ("choice", "check")),
    "click": (("choice", "check"), ("live",), ("slider",)),
}


class ProtocolError(RuntimeError):
    """The server answered, but not as a working page would."""


@dataclass
class Control:
    """A control of the page as the server sent it: a slider (``st.slider``, ``st.select_slider``), a choice
    (``st.selectbox``, ``st.radio``), a check (``st.checkbox``, ``st.toggle``) or a live control
    (lossviz.ui.live_chart: a component whose state is the committed values, ``{"values": [...], "seq": n}``)."""

    id: str
    label: str
    lo: float
    hi: float
    step: float
    options: list[str]
    value: list[float]  # current value: numbers, option indices (select slider, choice), 0/1 (check), frames (live)
    query_key: str = ""  # the URL key of a widget bound to the query string ("" if unbound)
    kind: str = "slider"  # "slider", "choice", "check" or "live"
    frames: list[list[float]] = field(default_factory=list)  # live: each parameter's frame values
    seq: int = 0  # live: the sequence number of the last commit

    @property
    def is_select(self) -> bool:
        return bool(self.options) and self.kind == "slider"

    def moved(self, rng: random.Random) -> WidgetState:
        """A widget state with this control moved to another value (first handle of a range, one parameter of
        a pad), as the browser sends it on release or click."""
        state = WidgetState(id=self.id)
        if self.kind == "live":
            # What lossviz/ui/live_chart.js sends on release (setStateValue("committed", ...)), as a real
            # browser's WebSocket frame shows: {"committed": {"values": [v, ...], "seq": n}} as JSON.
            p = rng.randrange(len(self.frames))
            current = int(self.value[p])
            self.value[p] = float(rng.choice([k for k in range(len(self.frames[p])) if k != current] or [current]))
            self.seq += 1
            values = [self.frames[i][int(k)] for i, k in enumerate(self.value)]
            state.json_value = json.dumps({"committed": {"values": values, "seq": self.seq}}, separators=(",", ":"))
            return state
        if self.kind == "check":
            self.value = [1.0 - self.value[0]]
            state.bool_value = bool(self.value[0])
            return state
        if self.kind == "choice":
            i = rng.choice([i for i in range(len(self.options)) if i != int(self.value[0])] or [0])
            self.value = [float(i)]
            state.string_value = self.options[i]
            return state
        if self.is_select:
            choices = [i for i in range(len(self.options)) if i != int(self.value[0])] or [0]
            i = rng.choice(choices)
            self.value = [float(i), *self.value[1:]]
            state.string_array_value.data.extend(self.options[int(v)] for v in self.value)
            return state
        steps = max(round((self.hi - self.lo) / self.step), 1)
        current = round((self.value[0] - self.lo) / self.step)
        choices = [k for k in range(steps + 1) if k != current]
        upper = self.value[1] if len(self.value) > 1 else math.inf
        choices = [k for k in choices if self.lo + k * self.step <= upper] or [current]
        v = round(self.lo + rng.choice(choices) * self.step, 12)
        self.value = [v, *self.value[1:]]
        state.double_array_value.data.extend(self.value)
        return state

    def url_value(self) -> str:
        """The value as the browser writes it into the URL for a bound widget (a live control's link is
        written by the server: it comes back in ``page_info_changed``)."""
        if self.kind == "check":
            return "true" if self.value[0] else "false"
        if self.kind == "choice" or self.is_select:
            return self.options[int(self.value[0])]
        return ",".join(f"{v:.12g}" for v in self.value)


@dataclass
class Run:
    """One script run as the client saw it."""

    chart_s: float | None = None  # send -> first delta with a plotly chart
    finished_s: float | None = None  # send -> script_finished
    charts: list[str | bytes] = field(default_factory=list)  # plotly figure JSON or a live chart's data, in order
    exceptions: list[str] = field(default_factory=list)  # st.exception / uncaught errors on the page
    alerts: list[str] = field(default_factory=list)  # st.error bodies (handled errors shown to the user)
    widget_ids: list[str] = field(default_factory=list)  # every widget on the page, in page order
    received_bytes: int = 0


def _control(kind: str, el: Any) -> Control | None:
    if kind == "bidi_component":
        return _live_control(el)
    if kind in ("selectbox", "radio") and not el.disabled and len(el.options) > 1:
        index = el.default if kind == "radio" or el.HasField("default") else 0
        return Control(el.id, el.label, 0, 0, 1, list(el.options), [float(index)], el.query_param_key, "choice")
    if kind == "checkbox" and not el.disabled:
        return Control(el.id, el.label, 0, 1, 1, [], [float(el.default)], el.query_param_key, "check")
    if kind != "slider" or el.disabled or el.data_type > 1 or not el.default:  # numbers only, no dates
        return None
    return Control(
        el.id, el.label, el.min, el.max, el.step or 1.0, list(el.options), list(el.default), el.query_param_key
    )


def _live_control(el: Any) -> Control | None:
    """A live control (lossviz.ui.live_chart) from its component data; None for a player (it commits nothing)
    or another component."""
    with contextlib.suppress(ValueError, TypeError):
        data = json.loads(el.bytes or el.json)  # a live chart sends JSON bytes
        if isinstance(data, dict) and data.get("params") and data.get("player") is None and "seq" in data:
            frames = [[float(v) for v in p["values"]] for p in data["params"]]
            label = ", ".join(str(p["label"]) for p in data["params"])
            index = [float(p["index"]) for p in data["params"]]
            return Control(el.id, label, 0, 0, 1, [], index, "", "live", frames, int(data["seq"]))
    return None


async def http_get(url: str, cookie: str = "", timeout: float = 10.0) -> tuple[int, dict[str, str]]:
    """A minimal HTTP/1.1 GET (loopback): status and headers (last value wins); the body is read and dropped."""
    parts = urlsplit(url)
    reader, writer = await asyncio.wait_for(asyncio.open_connection(parts.hostname, parts.port or 80), timeout)
    try:
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        head = f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\nUser-Agent: lossviz-bench\r\n"
        if cookie:
            head += f"Cookie: {cookie}\r\n"
        writer.write((head + "\r\n").encode())
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    header_block = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    status = int(header_block[0].split()[1])
    headers: dict[str, str] = {}
    for line in header_block[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


class Session:
    """One browser tab's worth of Streamlit session: page load, reruns with widget states, reconnects."""

    def __init__(self, base_url: str, page: str, query: str = "", timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.page = page
        self.query = query
        self.timeout = timeout
        self.cookie = ""
        self.ws: ClientConnection | None = None
        self.replica = ""
        self.session_id = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path -> page script hash, from the navigation message
        self.controls: dict[str, Control] = {}
        self.widgets: dict[str, WidgetState] = {}  # everything this tab has set, sent with every rerun

    async def load_page(self) -> None:
        """GET the page like a browser does first (nginx sets the sticky route cookie here)."""
        url = f"{self.base_url}/{self.page}" + (f"?{self.query}" if self.query else "")
        status, headers = await http_get(url, self.cookie)
        if status != 200:
            raise ProtocolError(f"GET {url}: HTTP {status}")
        set_cookie = headers.get("set-cookie", "")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]

    async def connect(self) -> Run:
        """Open the WebSocket and run the page once (the page the browser shows after loading)."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        headers = [("Origin", f"{parts.scheme}://{parts.netloc}")]
        if self.cookie:
            headers.append(("Cookie", self.cookie))
        self.ws = await connect(
            f"{scheme}://{parts.netloc}/_stcore/stream",
            subprotocols=[Subprotocol("streamlit")],
            additional_headers=headers,
            max_size=None,
            compression=None,
            open_timeout=self.timeout,
        )
        self.replica = self.ws.response.headers.get(REPLICA_HEADER, parts.netloc) if self.ws.response else ""
        self.page_hash = ""
        return await self.rerun()

    async def open(self) -> Run:
        await self.load_page()
        return await self.connect()

    async def closed_within(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True as soon as the server closes the WebSocket (as a browser notices
        at once, not at its next message)."""
        if self.ws is None:
            return False
        try:
            await asyncio.wait_for(asyncio.shield(self.ws.wait_closed()), seconds)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()
            self.ws = None

    async def move(self, rng: random.Random, pick: str = "random", kinds: KINDS = (("slider",),)) -> tuple[Control, Run]:
        """Move one control of the page (the first one, or a random one) and wait for the page to update.

        ``kinds`` are groups of control kinds in order of preference: a control of the first group the page has.
        """
        groups = ([c for c in self.controls.values() if c.kind in group] for group in kinds)
        mine = next((g for g in groups if g), [])
        if not mine:
            raise ProtocolError(f"page {self.page!r} shows no control of the kinds {kinds}")
        control = mine[0] if pick == "first" else rng.choice(mine)
        return control, await self.set_control(control, control.moved(rng))

    async def set_control(self, control: Control, state: WidgetState) -> Run:
        """Give a control a new value and rerun, as the browser does when a slider is released:
        the widget state goes to the server, and a bound widget's value into the URL."""
        self.widgets[control.id] = state
        if control.query_key:
            params = [(k, v) for k, v in parse_qsl(self.query, keep_blank_values=True) if k != control.query_key]
            self.query = urlencode([*params, (control.query_key, control.url_value())])
        return await self.rerun()

    async def rerun(self) -> Run:
        """Send rerun_script with this tab's widget states; read until script_finished."""
        if self.ws is None:
            raise ProtocolError("not connected")
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        state.page_script_hash = self.page_hash
        state.page_name = "" if self.page_hash else self.page
        state.widget_states.widgets.extend(self.widgets.values())
        state.widget_states.SetInParent()
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        return await asyncio.wait_for(self._read_run(t0), self.timeout)

    async def _read_run(self, t0: float) -> Run:
        run = Run()
        assert self.ws is not None
        seen_controls: dict[str, Control] = {}
        while True:
            raw = await self.ws.recv(decode=False)
            run.received_bytes += len(raw)
            fm = ForwardMsg()
            fm.ParseFromString(raw)
            kind = fm.WhichOneof("type")
            if kind == "delta":
                if fm.delta.WhichOneof("type") != "new_element":
                    continue
                el_kind = fm.delta.new_element.WhichOneof("type")
                el = getattr(fm.delta.new_element, el_kind)
                if getattr(el, "id", ""):
                    run.widget_ids.append(el.id)
                if el_kind in ("plotly_chart", "bidi_component") and run.chart_s is None:
                    run.chart_s = time.perf_counter() - t0  # a live chart is drawn from its component's data
                if el_kind == "bidi_component":  # a live chart: its figure and its controls' state, as sent
                    run.charts.append(el.bytes or el.json)
                if el_kind == "plotly_chart":
                    run.charts.append(el.spec)
                elif el_kind == "exception":
                    run.exceptions.append(f"{el.type}: {el.message}")
                elif el_kind == "alert" and el.format == 1:  # Alert.ERROR
                    run.alerts.append(el.body)
                else:
                    control = _control(el_kind, el)
                    if control is not None:
                        old = self.controls.get(control.id)
                        if old is not None and control.id in self.widgets and control.kind != "live":
                            control.value = old.value
                        seen_controls[control.id] = control
            elif kind == "page_info_changed":  # the server wrote the link (a live control's commit)
                self.query = fm.page_info_changed.query_string
            elif kind == "new_session":
                self.session_id = fm.new_session.initialize.session_id
                self.page_hash = fm.new_session.page_script_hash
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in fm.navigation.app_pages}
                if fm.navigation.page_script_hash:
                    self.page_hash = fm.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query = fm.page_info_changed.query_string
            elif kind == "page_not_found":
                raise ProtocolError(f"page not found: {self.page!r}")
            elif kind == "script_finished":
                status = fm.script_finished
                if status == 2:  # FINISHED_EARLY_FOR_RERUN: a newer run follows
                    continue
                run.finished_s = time.perf_counter() - t0
                if status == 1:
                    run.exceptions.append("script compile error")
                self.controls = seen_controls
                return run


async def page_names(base_url: str) -> list[str]:
    """The app's pages (url paths) from the navigation message of one session."""
    s = Session(base_url, "")
    try:
        await s.open()
        return [p for p in s.pages if p]
    finally:
        await s.close()


# --------------------------------------------------------------------------------------------------
# Server memory


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


def cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far, from /proc/<pid>/stat."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def server_cpu(run_dir: Path) -> dict[str, float]:
    return {addr: c for addr, pid in replica_pids(run_dir).items() if (c := cpu_s(pid)) is not None}


def replica_pids(run_dir: Path) -> dict[str, int]:
    """``{"127.0.0.1:8701": pid, ...}`` from deploy/run_local.sh's pid files."""
    pids = {}
    for f in sorted(run_dir.glob("app-*.pid")):
        with contextlib.suppress(ValueError, OSError):
            pids[f"127.0.0.1:{f.stem.split('-', 1)[1]}"] = int(f.read_text().strip())
    return pids


def server_rss(run_dir: Path) -> dict[str, float]:
    return {addr: r for addr, pid in replica_pids(run_dir).items() if (r := rss_mib(pid)) is not None}


# --------------------------------------------------------------------------------------------------
# Students


@dataclass
class Stats:
    chart_s: list[float] = field(default_factory=list)
    finished_s: list[float] = field(default_factory=list)
    open_s: list[float] = field(default_factory=list)
    moves: int = 0
    bytes: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: list[str] = field(default_factory=list)
    alerts: Counter = field(default_factory=Counter)
    reconnect_s: list[float] = field(default_factory=list)
    sessions_opened: int = 0

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.error_samples) < 20:
            self.error_samples.append(f"{kind}: {detail}"[:300])


@dataclass
class Student:
    n: int
    page: str
    session: Session
    rng: random.Random
    stats: Stats = field(default_factory=Stats)  # this student's own numbers
    replicas: list[str] = field(default_factory=list)  # replica of each connection, in order
    disconnected_at: float | None = None
    opened: bool = False
    reconnected_at: list[float] = field(default_factory=list)  # perf_counter() when the page was back
    role: str = "drag"  # which controls it moves: ROLES
    paced: bool = False  # one interaction per think time (the page's update counted in it), not think after it


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


def record_run(stats: Stats, run: Run, opening: bool) -> None:
    stats.bytes += run.received_bytes
    for e in run.exceptions:
        stats.error("exception", e)
    for a in run.alerts:
        stats.alerts[a[:80]] += 1
    if opening:
        stats.open_s.append(run.finished_s or math.nan)
        stats.sessions_opened += 1
        return
    stats.moves += 1
    if run.finished_s is not None:
        stats.finished_s.append(run.finished_s)
        stats.chart_s.append(run.chart_s if run.chart_s is not None else run.finished_s)


async def reconnect(student: Student, deadline: float) -> bool:
    """Reconnect as the Streamlit frontend does after a lost WebSocket: retry until the page runs
    again; one error if it never does (the incident itself is counted by the caller, if unexpected)."""
    s = student.session
    await s.close()
    t0 = student.disconnected_at or time.perf_counter()
    delay, last = 0.2, ""
    while time.perf_counter() < deadline:
        try:
            status, _ = await http_get(f"{s.base_url}/_stcore/health", s.cookie, timeout=5)
            if status == 200:
                run = await s.connect()
                record_run(student.stats, run, opening=True)
                student.replicas.append(s.replica)
                student.stats.reconnect_s.append(time.perf_counter() - t0)
                student.reconnected_at.append(time.perf_counter())
                student.disconnected_at = None
                return True
        except (OSError, ConnectionClosed, InvalidStatus, ProtocolError, TimeoutError) as exc:
            last = repr(exc)  # the proxy may still route to the dead replica: keep trying
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)
    student.stats.error("reconnect", f"gave up after {deadline - t0:.0f} s: {last}")
    return False


@dataclass
class Clock:
    """When the students stop (set once the class is in)."""

    stop_at: float = math.inf


async def student_loop(
    student: Student,
    clock: Clock,
    think: float,
    pick: str,
    life: float | None,
    pages: list[str],
    expect_disconnect: asyncio.Event | None = None,
    go: asyncio.Event | None = None,
) -> None:
    """Open the page, wait for ``go``, then move controls with think time until ``stop_at``;
    reconnect when dropped."""
    st, s, rng = student.stats, student.session, student.rng
    try:
        record_run(st, await s.open(), opening=True)
        student.replicas.append(s.replica)
    except Exception as exc:
        st.error("open", repr(exc))
        return
    finally:
        student.opened = True
    if go is not None:
        await go.wait()
    born = time.perf_counter()
    session_life = rng.uniform(0.5, 1.5) * life if life else math.inf
    took = 0.0  # the last interaction's time, from the send to the page updated
    while True:
        pause = rng.uniform(0.5, 1.5) * think
        if student.paced:
            pause = max(0.05, pause - took)
        if time.perf_counter() + pause >= clock.stop_at:
            break
        try:
            if await s.closed_within(pause):
                raise ConnectionError("the server closed the session's WebSocket")
            if time.perf_counter() - born > session_life:  # the student reloads, maybe another page
                await s.close()
                s.page = rng.choice(pages)
                s.query, s.widgets, s.controls = "", {}, {}
                record_run(st, await s.open(), opening=True)
                student.replicas.append(s.replica)
                born, session_life = time.perf_counter(), rng.uniform(0.5, 1.5) * (life or math.inf)
                continue
            _, run = await s.move(rng, pick, ROLES[student.role])
            record_run(st, run, opening=False)
            took = run.finished_s or 0.0
        except (TimeoutError, ProtocolError) as exc:  # TimeoutError first: it is an OSError too
            st.error("timeout" if isinstance(exc, TimeoutError) else "protocol", repr(exc))
            student.disconnected_at = time.perf_counter()
            if not await reconnect(student, time.perf_counter() + 30):
                return
        except (ConnectionClosed, OSError) as exc:
            student.disconnected_at = time.perf_counter()
            expected = expect_disconnect is not None and expect_disconnect.is_set()
            if not expected:
                st.error("disconnect", repr(exc))
            if not await reconnect(student, time.perf_counter() + 30):
                return
    await s.close()


def merge(stats: list[Stats]) -> Stats:
    out = Stats()
    for s in stats:
        out.chart_s += s.chart_s
        out.finished_s += s.finished_s
        out.open_s += s.open_s
        out.reconnect_s += s.reconnect_s
        out.moves += s.moves
        out.bytes += s.bytes
        out.sessions_opened += s.sessions_opened
        out.errors.update(s.errors)
        out.alerts.update(s.alerts)
        out.error_samples += s.error_samples[: 20 - len(out.error_samples)]
    return out


def summary(stats: Stats, wall_s: float) -> dict[str, Any]:
    def ms(v: float | None) -> float | None:
        return None if v is None else round(1000 * v, 1)

    return {
        "moves": stats.moves,
        "moves_per_s": round(stats.moves / wall_s, 2) if wall_s else None,
        "sessions_opened": stats.sessions_opened,
        "chart_ms": {q: ms(pct(stats.chart_s, p)) for q, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        "finished_ms": {
            q: ms(pct(stats.finished_s, p)) for q, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))
        },
        "open_ms": {q: ms(pct([v for v in stats.open_s if v == v], p)) for q, p in (("p50", 50), ("p95", 95))},
        "errors": sum(stats.errors.values()),
        "errors_by_kind": dict(stats.errors),
        "error_samples": stats.error_samples,
        "alerts_shown": dict(stats.alerts.most_common(5)),
        "received_mib_per_s": round(stats.bytes / wall_s / 2**20, 2) if wall_s else None,
        "reconnect_ms": [ms(v) for v in sorted(stats.reconnect_s)],
    }


def make_students(args: argparse.Namespace, pages: list[str]) -> list[Student]:
    """The class: student i on page i mod pages; in the classroom mix every 1/share-th one drags, spread evenly."""
    share = args.drag_share if args.mode == "classroom" else 1.0
    return [
        Student(
            i,
            pages[i % len(pages)],
            Session(args.url, pages[i % len(pages)]),
            random.Random(args.seed * 1000 + i),
            role="drag" if math.floor((i + 1) * share) > math.floor(i * share) else "click",
            paced=args.mode == "classroom",
        )
        for i in range(args.sessions)
    ]


async def resolve_pages(args: argparse.Namespace) -> list[str]:
    if args.pages != "all":
        return [p.strip().strip("/") for p in args.pages.split(",") if p.strip()]  # "/": the root page
    return await page_names(args.url)


async def warm_up(url: str, pages: list[str], run_dir: Path) -> None:
    """Run every page on every replica (imports, first cache fills) so that the test measures steady state.

    Replicas with pid files in ``run_dir`` are warmed directly on their own ports, one page at a
    time; otherwise a few sessions go through ``url``.
    """
    targets = [f"http://{addr}" for addr in replica_pids(run_dir)] or [url] * 3
    for page in pages:
        sessions = [Session(t, page, timeout=180) for t in targets]
        await asyncio.gather(*(s.open() for s in sessions), return_exceptions=True)
        await asyncio.gather(*(s.close() for s in sessions))


class MemorySampler:
    def __init__(self, run_dir: Path, every: float) -> None:
        self.run_dir, self.every = run_dir, every
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._task: asyncio.Task | None = None

    async def _loop(self, t0: float) -> None:
        while True:
            self.samples.append((round(time.perf_counter() - t0, 1), server_rss(self.run_dir)))
            await asyncio.sleep(self.every)

    def start(self, t0: float) -> None:
        self._task = asyncio.create_task(self._loop(t0))

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def total(rss: dict[str, float]) -> float:
    return round(sum(rss.values()), 1)


# --------------------------------------------------------------------------------------------------
# Modes


async def run_load(args: argparse.Namespace) -> dict[str, Any]:
    pages = await resolve_pages(args)
    run_dir = Path(args.run_dir)
    if not args.no_warmup:
        await warm_up(args.url, pages, run_dir)
    rss_before = server_rss(run_dir)
    students = make_students(args, pages)
    life = args.session_life if args.session_life > 0 else None
    go, clock, tasks = asyncio.Event(), Clock(), []
    # Phase 1: the class arrives over --ramp seconds and every page is shown once.
    t_open = time.perf_counter()
    for st in students:
        tasks.append(asyncio.create_task(student_loop(st, clock, args.think, args.pick, life, pages, go=go)))
        await asyncio.sleep(args.ramp / max(len(students), 1))
    while not all(st.opened for st in students) and time.perf_counter() - t_open < args.ramp + 120:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2.0)  # let the servers settle
    rss_open = server_rss(run_dir)
    opened = sum(1 for st in students if st.stats.sessions_opened)
    # Phase 2: everyone moves sliders for --duration seconds.
    cpu0, cpu_before = os.times(), server_cpu(run_dir)
    t0 = time.perf_counter()
    # A soak first runs --warmup-s at the same load (caches fill up to their bounds), then measures.
    warm = args.warmup_s if args.mode == "soak" else 0.0
    clock.stop_at = t0 + warm + args.duration
    sampler = MemorySampler(run_dir, args.sample_every)
    sampler.start(t0)
    go.set()
    # Memory with every session open and busy, just before they start leaving.
    await asyncio.sleep(max(0.0, clock.stop_at - time.perf_counter() - min(5.0, args.duration / 4)))
    rss_loaded = server_rss(run_dir)
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - t0
    await sampler.stop()
    cpu1 = os.times()
    cpu_after = server_cpu(run_dir)
    server_cpu_s = sum(cpu_after[a] - cpu_before[a] for a in cpu_after if a in cpu_before)
    merged = merge([s.stats for s in students])
    per_replica = Counter(r for s in students for r in s.replicas[:1])
    result = {
        "mode": args.mode,
        "url": args.url,
        "sessions": args.sessions,
        "duration_s": args.duration,
        "think_s": args.think,
        "pages": pages,
        "pick": args.pick,
        "warmup_s": warm,
        "session_life_s": args.session_life,
        "wall_s": round(wall, 1),
        **summary(merged, warm + args.duration),
        "sessions_per_replica": dict(per_replica),
        "rss_mib_before": rss_before,
        "rss_mib_open": rss_open,
        "rss_mib_loaded": rss_loaded,
        "rss_total_before": total(rss_before),
        "rss_total_open": total(rss_open),
        "rss_total_loaded": total(rss_loaded),
        # Sessions open and drawn, nobody moving yet: what one more student costs.
        "mib_per_extra_session": round((total(rss_open) - total(rss_before)) / opened, 2)
        if rss_before and rss_open and opened
        else None,
        # After the moves: also the caches the moves filled (bounded by max_entries).
        "mib_per_session_loaded": round((total(rss_loaded) - total(rss_before)) / opened, 2)
        if rss_before and rss_loaded and opened
        else None,
        "client_cpu_s": round((cpu1.user - cpu0.user) + (cpu1.system - cpu0.system), 1),
        # What the replicas spent, whatever else ran on the machine: the capacity figure per core.
        "server_cpu_s": round(server_cpu_s, 1),
        "server_cpu_ms_per_move": round(1000 * server_cpu_s / merged.moves, 1) if merged.moves else None,
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "rss_samples": sampler.samples if args.mode == "soak" else sampler.samples[-3:],
    }
    if args.mode == "soak":
        result.update(soak_drift(sampler.samples, args.warmup_s, args.window_s))
    if args.mode == "classroom":
        result["by_role"] = {
            role: {"students": len(group), **summary(merge([st.stats for st in group]), args.duration)}
            for role in ROLES
            if (group := [st for st in students if st.role == role])
        }
        cpu_per = server_cpu_s / merged.moves if merged.moves else None
        # One core at half load gives 0.5 core-seconds per second; a student asks cpu_per every think seconds.
        result["students_per_core_half_load"] = round(0.5 / (cpu_per / args.think)) if cpu_per else None
    return result


def classroom_table(results: list[dict[str, Any]]) -> str:
    """The classroom steps as a Markdown table."""
    rows = [
        "| students | interactions/s | server CPU ms / interaction | students per core (half load, 1 per "
        f"{results[0]['think_s']:g} s) | control → chart p50 / p95 ms (drag; click) | page done p95 ms | errors "
        "| load avg (1 min) |",
        "|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for r in results:
        roles = r.get("by_role", {})
        per_role = "; ".join(
            f"{v['chart_ms']['p50']} / {v['chart_ms']['p95']}" for v in (roles.get("drag"), roles.get("click")) if v
        )
        rows.append(
            f"| {r['sessions']} | {r['moves_per_s']} | {r['server_cpu_ms_per_move']} | "
            f"{r['students_per_core_half_load']} | {r['chart_ms']['p50']} / {r['chart_ms']['p95']} ({per_role}) | "
            f"{r['finished_ms']['p95']} | {r['errors']} | {r['load_avg'][0]:.1f} |"
        )
    return "\n".join(rows)


async def run_classroom(args: argparse.Namespace) -> dict[str, Any]:
    """The classroom mix at each number of students of ``--steps`` in turn (warm-up once)."""
    results = []
    for i, n in enumerate(args.steps):
        step = argparse.Namespace(**{**vars(args), "sessions": n, "no_warmup": args.no_warmup or i > 0})
        results.append(await run_load(step))
        print(json.dumps({k: results[-1][k] for k in ("sessions", "moves", "server_cpu_ms_per_move", "errors")}),
              file=sys.stderr, flush=True)
    return {"mode": "classroom", "steps": results, "table": classroom_table(results)}


def soak_drift(samples: list[tuple[float, dict[str, float]]], warm_s: float, window_s: float = 120.0) -> dict[str, Any]:
    """RSS drift after warm-up: the mean total RSS of the last ``window_s`` against the first
    ``window_s`` after ``warm_s`` (caches fill and disconnected sessions expire before it), and
    the least-squares trend of the total after ``warm_s``, in MiB per hour."""
    series = [(t, total(r)) for t, r in samples if r]
    after = [(t, v) for t, v in series if t >= warm_s]
    early = [v for t, v in after if t < warm_s + window_s]
    late = [v for t, v in after if t >= series[-1][0] - window_s] if series else []
    if not early or not late or len(after) < 3:
        return {"rss_drift": None}
    e, l_ = statistics.fmean(early), statistics.fmean(late)
    slope = statistics.linear_regression([t for t, _ in after], [v for _, v in after]).slope
    return {
        "rss_total_start_mib": series[0][1],
        "rss_total_early_mib": round(e, 1),
        "rss_total_late_mib": round(l_, 1),
        "rss_total_max_mib": max(v for _, v in series),
        "rss_drift": round((l_ - e) / e, 4),
        "rss_trend_mib_per_hour": round(slope * 3600, 1),
    }


async def run_failover(args: argparse.Namespace) -> dict[str, Any]:
    pages = await resolve_pages(args)
    run_dir = Path(args.run_dir)
    pids = replica_pids(run_dir)
    if len(pids) < 2:
        raise SystemExit(f"failover needs at least 2 replicas with pid files in {run_dir}")
    if not args.no_warmup:
        await warm_up(args.url, pages, run_dir)
    students = make_students(args, pages)
    dropped = asyncio.Event()
    t0 = time.perf_counter()
    clock = Clock(t0 + args.duration)
    tasks = [
        asyncio.create_task(student_loop(st, clock, args.think, args.pick, None, pages, dropped)) for st in students
    ]
    await asyncio.sleep(args.kill_at)
    placed = Counter(st.replicas[0] for st in students if st.replicas)
    victim = args.kill or placed.most_common(1)[0][0]
    pid = replica_pids(run_dir)[victim]
    dropped.set()
    kill_time = time.perf_counter()
    killed_at = kill_time - t0
    os.kill(pid, signal.SIGKILL)
    await asyncio.gather(*tasks)
    on_victim = [st for st in students if st.replicas and st.replicas[0] == victim]
    others = [st for st in students if st.replicas and st.replicas[0] != victim]
    moved = [st for st in on_victim if len(st.replicas) > 1]
    return {
        "mode": "failover",
        "sessions": args.sessions,
        "duration_s": args.duration,
        "think_s": args.think,
        "pages": pages,
        "killed_replica": victim,
        "killed_pid": pid,
        "killed_at_s": round(killed_at, 1),
        "sessions_per_replica": dict(placed),
        "other_replicas": {
            "sessions": len(others),
            "disconnected": sum(1 for st in others if len(st.replicas) > 1),
            **summary(merge([st.stats for st in others]), args.duration),
        },
        "killed_replica_clients": {
            "sessions": len(on_victim),
            "reconnected": len(moved),
            "reconnected_to": dict(Counter(st.replicas[1] for st in moved)),
            # from the SIGKILL to the page shown again by a live replica, per student
            "back_after_kill_ms": sorted(round(1000 * (st.reconnected_at[0] - kill_time), 1) for st in moved),
            **summary(merge([st.stats for st in on_victim]), args.duration),
        },
        "load_avg": os.getloadavg(),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["load", "soak", "failover", "classroom"])
    p.add_argument("--url", default="http://127.0.0.1:8700", help="nginx (or one replica), loopback")
    p.add_argument("--sessions", type=int, default=40)
    p.add_argument("--duration", type=float, default=60.0, help="seconds")
    p.add_argument(
        "--think", type=float, default=None, help="mean seconds between moves (default 2; classroom: 3, per interaction)"
    )
    p.add_argument("--ramp", type=float, default=5.0, help="seconds over which the students arrive")
    p.add_argument("--pages", default="curves", help="comma-separated url paths, or 'all'")
    p.add_argument("--pick", choices=["random", "first"], default="random", help="which slider a student moves")
    p.add_argument("--session-life", type=float, default=0.0, help="mean seconds before a student reloads (soak)")
    p.add_argument("--run-dir", default="/tmp/lossviz-cluster", help="pid files of the replicas")
    p.add_argument("--sample-every", type=float, default=5.0, help="seconds between memory samples")
    p.add_argument(
        "--warmup-s", type=float, default=300.0, help="soak: seconds of the same load before the measured --duration"
    )
    p.add_argument("--window-s", type=float, default=120.0, help="soak: length of the early and late windows")
    p.add_argument("--kill-at", type=float, default=20.0, help="failover: seconds into the test")
    p.add_argument("--kill", default="", help="failover: replica address to kill (default: the busiest)")
    p.add_argument("--no-warmup", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", default="", help="also write the result here")
    p.add_argument("--steps", default="20,40", help="classroom: numbers of students, one measured run each")
    p.add_argument("--drag-share", type=float, default=0.5, help="classroom: the share of students who drag")
    p.add_argument("--serve", action="store_true", help="start one replica of --app here (and measure it)")
    p.add_argument("--app", default="app.py", help="--serve: the main script, e.g. tests/apps/live_chart_app.py")
    args = p.parse_args(argv)
    args.steps = [int(n) for n in args.steps.split(",") if n.strip()]
    if args.think is None:
        args.think = 3.0 if args.mode == "classroom" else 2.0
    if args.mode == "classroom" and not all(0 < n <= MAX_LIMITS["sessions"] for n in args.steps):
        p.error(f"bounded: 1..{MAX_LIMITS['sessions']} students a step")
    host = urlsplit(args.url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        p.error("loopback only: --url must point at 127.0.0.1/localhost")
    if not 0 < args.sessions <= MAX_LIMITS["sessions"] or not 0 < args.duration <= MAX_LIMITS["duration"]:
        p.error(f"bounded: 1..{MAX_LIMITS['sessions']} sessions, up to {MAX_LIMITS['duration']:.0f} s")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    modes = {"failover": run_failover, "classroom": run_classroom}
    with contextlib.ExitStack() as stack:
        if args.serve:
            sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/, also when loaded by file path
            from browser_playback import server

            args.run_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="lossviz-bench-"))
            # One replica of the app, one core of Python, its pid where server_cpu reads it.
            args.url = stack.enter_context(server(args.app, Path(args.run_dir)))
        result = asyncio.run(modes.get(args.mode, run_load)(args))
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(result["table"] if args.mode == "classroom" else text)
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
