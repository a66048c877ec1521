"""The local scale-out topology (deploy/run_local.sh: 3 replicas behind nginx with deploy/nginx/nginx.conf):
a short load through nginx, sticky sessions that still spread loopback clients, and a replica killed mid-use."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from deploy_helpers import Cluster, bench_load

pytestmark = pytest.mark.slow

load = bench_load()


def test_status_reports_nginx_and_every_replica(cluster: Cluster) -> None:
    out = cluster.script("status", timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.count("ok ") == 2 + len(cluster.app_urls)


def test_nginx_runs_the_repository_config_unchanged(cluster: Cluster) -> None:
    conf = cluster.run_dir / "nginx.conf"
    assert conf.resolve() == (Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "nginx.conf")
    upstream = (cluster.run_dir / "upstream-servers.conf").read_text()
    assert all(f"server {u.removeprefix('http://')} " in upstream for u in cluster.app_urls)


def test_first_response_sets_the_route_cookie_once(cluster: Cluster) -> None:
    with urllib.request.urlopen(f"{cluster.url}/curves", timeout=30) as r:
        cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("lossviz_route=") and "HttpOnly" in cookie
    req = urllib.request.Request(f"{cluster.url}/curves", headers={"Cookie": cookie.split(";")[0]})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.headers["Set-Cookie"] is None


def test_sessions_stick_to_their_replica_and_spread_over_all(cluster: Cluster) -> None:
    async def main() -> tuple[list[str], list[str]]:
        sessions = [load.Session(cluster.url, "curves", timeout=120) for _ in range(12)]
        for s in sessions:
            await s.load_page()  # a route cookie each, as 12 browsers get
        # WebSocket handshakes only: no script run is needed to see where nginx routes them.
        first = [await _handshake_replica(s) for s in sessions]
        for s in sessions:
            await s.load_page()  # the page again, with the cookie: no new one
        again = [await _handshake_replica(s) for s in sessions]
        return first, again

    first, again = asyncio.run(main())
    assert first == again, "a browser's WebSocket moved to another replica"
    assert len(set(first)) >= 2, f"12 browsers all on one replica: {first}"
    assert set(first) <= {u.removeprefix("http://") for u in cluster.app_urls}


async def _handshake_replica(s) -> str:
    from websockets.asyncio.client import connect

    async with connect(
        s.base_url.replace("http", "ws") + "/_stcore/stream",
        subprotocols=["streamlit"],
        additional_headers=[("Cookie", s.cookie)],
    ) as ws:
        return ws.response.headers[load.REPLICA_HEADER]


def test_smoke_load_through_nginx(cluster: Cluster, tmp_path: Path) -> None:
    """6 students × 20 s moving Curves sliders through nginx: no errors, every move answered by a chart."""
    out = tmp_path / "smoke.json"
    load.main(
        ["load", "--url", cluster.url, "--sessions", "6", "--duration", "20", "--think", "1", "--ramp", "2",
         "--run-dir", str(cluster.run_dir), "--json", str(out)]
    )  # fmt: skip
    r = json.loads(out.read_text())
    assert r["errors"] == 0, r["error_samples"]
    assert r["sessions_opened"] == 6 and r["moves"] >= 12
    assert r["chart_ms"]["p50"] is not None and r["finished_ms"]["max"] < 30_000
    assert len(r["rss_mib_loaded"]) == 3 and all(v > 50 for v in r["rss_mib_loaded"].values())


def test_killed_replica_costs_its_students_a_reconnect_only(cluster: Cluster) -> None:
    """SIGKILL one replica: sessions elsewhere carry on without an error; its own students are back,
    on a live replica, within 10 s. The supervisor then restarts it."""

    async def main() -> dict:
        sessions = [load.Session(cluster.url, "curves", timeout=60) for _ in range(9)]
        await asyncio.gather(*(s.open() for s in sessions))
        replicas = [s.replica for s in sessions]
        victim = max(set(replicas), key=replicas.count)
        pid = load.replica_pids(cluster.run_dir)[victim]
        os.kill(pid, signal.SIGKILL)
        killed_at = time.perf_counter()
        rng = random.Random(0)
        results = {}
        for s in sessions:
            try:
                _, run = await s.move(rng)
                results[s] = ("ok", run)
            except (OSError, load.ConnectionClosed) as exc:
                results[s] = ("dropped", exc)
        reconnect_s = {}
        for s, (status, _) in results.items():
            if status == "dropped":
                student = load.Student(0, s.page, s, rng)
                student.disconnected_at = killed_at
                assert await load.reconnect(student, time.perf_counter() + 30)
                reconnect_s[s] = student.stats.reconnect_s[-1]
        await asyncio.gather(*(s.close() for s in sessions))
        return {"replicas": replicas, "victim": victim, "results": results, "reconnect_s": reconnect_s,
                "sessions": sessions}  # fmt: skip

    r = asyncio.run(main())
    for s, before in zip(r["sessions"], r["replicas"], strict=True):
        status, run = r["results"][s]
        if before == r["victim"]:
            assert status == "dropped"
            assert s.replica != r["victim"] and r["reconnect_s"][s] < 10
        else:
            assert status == "ok" and run.exceptions == [], "a session on a live replica was disturbed"
            assert s.replica == before
    # The supervisor brings the killed replica back.
    port = r["victim"].rsplit(":", 1)[1]
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as h:
                if h.status == 200:
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "the killed replica did not come back"
        time.sleep(0.5)
