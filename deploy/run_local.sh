#!/usr/bin/env bash
# The scale-out topology on one machine, without Docker: N lossviz replicas (streamlit run app.py)
# on loopback ports behind Debian's nginx, which runs deploy/nginx/nginx.conf -- the very file
# docker compose mounts. Only the two files it includes differ (replica addresses, listen port);
# this script writes loopback versions of them into its run directory, beside a link to it.
#
# Usage:  deploy/run_local.sh up       start, wait until healthy, stay in the foreground (Ctrl-C stops)
#         deploy/run_local.sh start    start in the background, return once healthy
#         deploy/run_local.sh stop     stop everything this run directory started
#         deploy/run_local.sh status   health of nginx and of each replica
# Settings (environment):
#   LOSSVIZ_REPLICAS=3            number of app processes
#   LOSSVIZ_PORT=8700             nginx, on 127.0.0.1 (open http://127.0.0.1:8700)
#   LOSSVIZ_APP_PORT=8701         first replica's port; the others follow (8702, 8703)
#   LOSSVIZ_RUN_DIR=/tmp/lossviz-cluster   config, pid files and logs
#   LOSSVIZ_COOKIE_SECRET         shared server.cookieSecret (default: random, kept in the run directory)
#   PYTHON                        interpreter with requirements.txt installed (default: python3 on PATH)
# Each replica runs under a small supervisor loop that restarts it when it dies (as compose's
# "restart: unless-stopped" and Kubernetes do), and writes its current pid to app-<port>.pid.
# Needs nginx (Debian: apt-get install -y nginx) and curl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPLICAS="${LOSSVIZ_REPLICAS:-3}"
PORT="${LOSSVIZ_PORT:-8700}"
APP_PORT="${LOSSVIZ_APP_PORT:-8701}"
RUN="${LOSSVIZ_RUN_DIR:-/tmp/lossviz-cluster}"
PY="${PYTHON:-python3}"
NGINX="${NGINX:-nginx}"

app_ports() { seq "$APP_PORT" $((APP_PORT + REPLICAS - 1)); }

healthy() { curl -fs -o /dev/null --max-time 2 "$1"; }

wait_healthy() {  # url, seconds
    local deadline=$((SECONDS + $2))
    until healthy "$1"; do
        if ((SECONDS >= deadline)); then
            echo "not healthy after $2 s: $1" >&2
            return 1
        fi
        sleep 0.5
    done
}

# Runs one replica forever: restarted 1 s after it exits, until the run directory says stop.
supervise() {
    local port="$1"
    cd "$ROOT"
    while [ ! -e "$RUN/stopping" ]; do
        "$PY" -m streamlit run app.py \
            --server.address=127.0.0.1 --server.port="$port" --server.headless=true \
            >>"$RUN/app-$port.log" 2>&1 &
        echo $! >"$RUN/app-$port.pid"
        local rc=0
        wait $! || rc=$?
        echo "$(date -Is) replica $port exited (status $rc)" >>"$RUN/supervisor.log"
        [ -e "$RUN/stopping" ] && break
        sleep 1
    done
}

write_config() {
    mkdir -p "$RUN"
    rm -f "$RUN/stopping"
    ln -sfn "$ROOT/deploy/nginx/nginx.conf" "$RUN/nginx.conf"
    echo "listen 127.0.0.1:$PORT;" >"$RUN/listen.conf"
    : >"$RUN/upstream-servers.conf"
    for p in $(app_ports); do
        echo "server 127.0.0.1:$p max_fails=1 fail_timeout=5s;" >>"$RUN/upstream-servers.conf"
    done
    if [ ! -s "$RUN/cookie-secret" ]; then
        (umask 077 && "$PY" -c 'import secrets; print(secrets.token_hex(32))' >"$RUN/cookie-secret")
    fi
}

nginx_args() { NGINX_ARGS=(-p "$RUN" -c "$RUN/nginx.conf" -g "daemon off; pid $RUN/nginx.pid;"); }

start() {
    if [ -e "$RUN/nginx.pid" ] && kill -0 "$(cat "$RUN/nginx.pid")" 2>/dev/null; then
        echo "already running (run directory $RUN); stop it first" >&2
        exit 1
    fi
    write_config
    nginx_args
    "$NGINX" -t -q "${NGINX_ARGS[@]}"
    export STREAMLIT_SERVER_COOKIE_SECRET="${LOSSVIZ_COOKIE_SECRET:-$(cat "$RUN/cookie-secret")}"
    # As in the image: no file watching. Streamlit's watcher walks every imported module (torch:
    # thousands) for each new session -- seconds of event-loop time and memory per student.
    export STREAMLIT_SERVER_FILE_WATCHER_TYPE="${STREAMLIT_SERVER_FILE_WATCHER_TYPE:-none}"
    for p in $(app_ports); do
        setsid "${BASH_SOURCE[0]}" _supervise "$p" </dev/null >/dev/null 2>&1 &
        echo $! >"$RUN/supervisor-$p.pid"
    done
    setsid "$NGINX" "${NGINX_ARGS[@]}" </dev/null >>"$RUN/nginx.log" 2>&1 &
    for p in $(app_ports); do
        wait_healthy "http://127.0.0.1:$p/_stcore/health" 120
    done
    wait_healthy "http://127.0.0.1:$PORT/_stcore/health" 20
    echo "lossviz: http://127.0.0.1:$PORT  ($REPLICAS replicas on 127.0.0.1:$(app_ports | paste -sd, -); run directory $RUN)"
}

kill_pidfile() {  # pidfile [signal]
    [ -e "$1" ] || return 0
    local pid
    pid="$(cat "$1")"
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    rm -f "$1"
}

stop() {
    [ -d "$RUN" ] || return 0
    touch "$RUN/stopping"
    for f in "$RUN"/supervisor-*.pid; do kill_pidfile "$f"; done
    for f in "$RUN"/app-*.pid; do kill_pidfile "$f"; done
    if [ -e "$RUN/nginx.pid" ]; then kill -TERM "$(cat "$RUN/nginx.pid")" 2>/dev/null || true; fi
    sleep 1
    rm -f "$RUN/nginx.pid"
    echo "stopped (run directory $RUN)"
}

status() {
    local rc=0
    for url in "http://127.0.0.1:$PORT/nginx-health" "http://127.0.0.1:$PORT/_stcore/health" \
        $(for p in $(app_ports); do echo "http://127.0.0.1:$p/_stcore/health"; done); do
        if healthy "$url"; then echo "ok    $url"; else echo "DOWN  $url"; rc=1; fi
    done
    return $rc
}

case "${1:-up}" in
    up)
        trap stop EXIT
        trap 'exit 130' INT TERM
        start
        echo "Ctrl-C stops it."
        while true; do
            sleep 3600 &
            wait $! # returns at once on a signal, unlike a foreground sleep
        done
        ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    _supervise) supervise "$2" ;;
    *)
        sed -n '2,20p' "${BASH_SOURCE[0]}"
        exit 2
        ;;
esac
