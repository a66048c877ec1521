"""Deployment configuration, checked as data (fast): Streamlit's config, nginx, compose, Kubernetes, scripts."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from deploy_helpers import ROOT, dockerfile, nginx

DEPLOY = ROOT / "deploy"
NGINX_CONF = (DEPLOY / "nginx" / "nginx.conf").read_text()
COMPOSE = (DEPLOY / "docker-compose.yml").read_text()
K8S = (DEPLOY / "k8s" / "lossviz.yaml").read_text()
CONFIG = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())


def _nginx_bytes(size: str) -> int:
    m = re.fullmatch(r"(\d+)([kmg]?)", size.lower())
    assert m, size
    return int(m[1]) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[m[2]]


# ---------------------------------------------------------------------------------------------- Streamlit


def test_streamlit_config_names_only_real_options() -> None:
    from streamlit import config

    known = set(config._config_options_template)
    for section, values in CONFIG.items():
        for key in values:
            assert f"{section}.{key}" in known, f"{section}.{key} is not a Streamlit option"


def test_streamlit_config_has_what_a_deployment_needs() -> None:
    server, runner = CONFIG["server"], CONFIG["runner"]
    assert server["headless"] is True and CONFIG["browser"]["gatherUsageStats"] is False
    assert 0 < server["maxUploadSize"] <= 50 and 0 < server["maxMessageSize"] <= 200
    assert server["enableXsrfProtection"] is True
    assert CONFIG["client"]["showErrorDetails"] == "none" and CONFIG["client"]["toolbarMode"] == "viewer"
    assert runner["postScriptGC"] is False  # see the comment in config.toml and docs/benchmarks.md
    assert re.fullmatch(r"\d+(mb|gb)", server["maxCacheDataSize"])
    assert {"base", "primaryColor"} <= set(CONFIG["theme"])
    assert "cookieSecret" not in server, "the cookie secret comes from the environment, never from the repository"


# ---------------------------------------------------------------------------------------------- nginx


def test_nginx_proxies_websockets_with_long_timeouts() -> None:
    assert re.search(r"map \$http_upgrade \$connection_upgrade", NGINX_CONF)
    assert "proxy_set_header Upgrade $http_upgrade;" in NGINX_CONF
    assert "proxy_set_header Connection $connection_upgrade;" in NGINX_CONF
    assert "proxy_http_version 1.1;" in NGINX_CONF
    stream = NGINX_CONF[NGINX_CONF.index("location = /_stcore/stream") :]
    stream = stream[: stream.index("}")]
    assert re.search(r"proxy_read_timeout 1h;", stream) and re.search(r"proxy_send_timeout 1h;", stream)
    # Host with its port: Streamlit compares the WebSocket's Origin with it.
    assert "proxy_set_header Host $http_host;" in NGINX_CONF


def test_nginx_sticky_sessions_by_cookie_not_by_address() -> None:
    upstream = NGINX_CONF[NGINX_CONF.index("upstream lossviz {") :]
    upstream = upstream[: upstream.index("}")]
    assert "hash $lossviz_route consistent;" in upstream
    assert "include upstream-servers.conf;" in upstream
    assert "ip_hash" not in upstream.replace("# ", "")
    assert "$request_id" in NGINX_CONF and "add_header Set-Cookie $lossviz_route_cookie;" in NGINX_CONF


@pytest.mark.parametrize(
    ("location", "versioned"),
    [
        (r"/app/static/plotly- ", 'STATIC_PLOTLY_JS = f"plotly-{plotly.__version__}.min.js"'),
        (r"/component/lossviz\.ui\.live_chart\.plotly_js/ ", "?v={plotly.__version__}"),
    ],
)
def test_nginx_lets_browsers_keep_plotly_js_whose_url_names_its_version(location: str, versioned: str) -> None:
    block = re.search(rf"location \^~ {location}\{{(.*?)\}}", NGINX_CONF, re.S)
    assert block, f"no location {location} for the live charts' plotly.js"
    assert 'add_header Cache-Control "public, max-age=31536000, immutable"' in block.group(1)
    assert "proxy_hide_header Cache-Control;" in block.group(1) and "$lossviz_route_cookie" in block.group(1)
    source = (ROOT / "lossviz" / "ui" / "live_chart.py").read_text()
    assert versioned in source  # immutable only because the URL changes with the file


def test_nginx_body_limit_covers_streamlit_uploads() -> None:
    size = re.search(r"client_max_body_size (\w+);", NGINX_CONF)[1]
    assert _nginx_bytes(size) >= CONFIG["server"]["maxUploadSize"] * 2**20


def test_nginx_accepts_the_config_with_loopback_includes(tmp_path: Path) -> None:
    (tmp_path / "nginx.conf").symlink_to(DEPLOY / "nginx" / "nginx.conf")
    (tmp_path / "listen.conf").write_text("listen 127.0.0.1:1;\n")
    (tmp_path / "upstream-servers.conf").write_text("server 127.0.0.1:2 max_fails=1 fail_timeout=5s;\n")
    out = subprocess.run(
        [nginx(), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", f"pid {tmp_path}/nginx.pid;"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


# ---------------------------------------------------------------------------------------------- compose


def test_compose_mounts_the_same_nginx_config_and_its_includes() -> None:
    mounts = re.findall(r"- \./(nginx/[\w/.-]+):(/etc/nginx/[\w.-]+):ro", COMPOSE)
    assert ("nginx/nginx.conf", "/etc/nginx/nginx.conf") in mounts
    targets = {Path(t).name for _, t in mounts}
    assert {"upstream-servers.conf", "listen.conf"} <= targets
    for src, _ in mounts:
        assert (DEPLOY / src).is_file(), src
    servers = (DEPLOY / "nginx" / "compose" / "upstream-servers.conf").read_text()
    assert re.search(r"^server app:8501 ", servers, re.M)
    assert dockerfile().one("EXPOSE").args == "8501"


def test_compose_runs_replicas_with_a_shared_cookie_secret() -> None:
    assert re.search(r"replicas: \$\{LOSSVIZ_REPLICAS:-3\}", COMPOSE)
    assert "STREAMLIT_SERVER_COOKIE_SECRET: ${LOSSVIZ_COOKIE_SECRET:?" in COMPOSE
    assert "restart: unless-stopped" in COMPOSE
    assert re.search(r"image: nginx:\d+\.\d+\.\d+-alpine", COMPOSE), "pin nginx's version"
    assert "condition: service_healthy" in COMPOSE


# ---------------------------------------------------------------------------------------------- Kubernetes


def test_k8s_manifest_has_the_parts_and_matches_the_image() -> None:
    kinds = re.findall(r"^kind: (\w+)$", K8S, re.M)
    assert {"Deployment", "Service", "Ingress"} <= set(kinds)
    uid = dockerfile().all("USER")[-1].args.split(":")[0]
    assert f"runAsUser: {uid}" in K8S and "runAsNonRoot: true" in K8S
    assert "containerPort: 8501" in K8S
    assert K8S.count("path: /_stcore/health") == 3  # startup, readiness, liveness
    assert re.search(r"secretKeyRef: \{name: lossviz-cookie, key: cookie-secret\}", K8S)
    assert 'nginx.ingress.kubernetes.io/affinity: "cookie"' in K8S
    assert 'nginx.ingress.kubernetes.io/proxy-read-timeout: "3600"' in K8S
    assert "sessionAffinity: ClientIP" in K8S


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_k8s_kustomization_builds() -> None:
    out = subprocess.run(["kubectl", "kustomize", str(DEPLOY / "k8s")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "image: registry.example.org/lossviz:0.1.0" in out.stdout
    assert len(re.findall(r"^kind: ", out.stdout, re.M)) == 5


# ---------------------------------------------------------------------------------------------- scripts


def test_run_local_script_parses_and_documents_itself() -> None:
    script = DEPLOY / "run_local.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    usage = subprocess.run(["bash", str(script), "help"], capture_output=True, text=True)
    assert usage.returncode == 2 and "deploy/run_local.sh up" in usage.stdout
    if shutil.which("shellcheck"):
        assert subprocess.run(["shellcheck", str(script)]).returncode == 0
