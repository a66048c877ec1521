# lossviz: the Streamlit app in a slim, CPU-only image.
#   docker build -t lossviz .
#   docker run --rm -p 8501:8501 -e STREAMLIT_SERVER_COOKIE_SECRET="$(openssl rand -hex 32)" lossviz
# Several replicas behind nginx: deploy/docker-compose.yml; Kubernetes: deploy/k8s/. See docs/deploy.md.
# tests/deploy/test_image_recipe.py runs this file's install and start commands outside Docker
# (a fresh venv, the same commands, the health endpoint must answer) and hadolint lints it in .ci/run.
FROM python:3.11.7-slim-bookworm

# torch comes from PyTorch's CPU wheel index: PyPI's torch is the CUDA build (several GB of
# GPU libraries this app never uses). Override with --build-arg for a mirror.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none

WORKDIR /app

# Dependencies first, in a layer of their own: rebuilt only when requirements.txt changes.
# torch's pin is read from requirements.txt, so the version lives in one place.
COPY requirements.txt .
RUN pip install --index-url "${TORCH_INDEX_URL}" "$(grep -E '^torch==' requirements.txt)" \
    && pip install -r requirements.txt

# An unprivileged user with a numeric id (Kubernetes' runAsNonRoot can check it). The code
# stays root-owned: the app reads it and never writes next to it.
RUN groupadd --gid 10001 lossviz \
    && useradd --uid 10001 --gid 10001 --create-home --shell /usr/sbin/nologin lossviz
COPY . .
# plotly.js for the live charts, linked from the installed plotly package into the static folder that
# Streamlit serves with validators (lossviz.ui.live_chart.publish_plotly_js): made here because the app
# never writes next to its code.
RUN python -c "from lossviz.ui.live_chart import publish_plotly_js; from lossviz.ui.navigation import ROOT; publish_plotly_js(ROOT / 'static')"
USER 10001:10001

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).status != 200)"]

CMD ["streamlit", "run", "app.py", "--server.port=8501", "--server.address=0.0.0.0", "--server.headless=true"]
