# syntax=docker/dockerfile:1.7
# social-score-api: the FastAPI service with the freshly trained model baked in.
#
# Layers, from least to most often changed:
#   builder: third-party dependencies (uv.lock only) → the socialscore package (src/)
#   runtime: system user → virtualenv → NLTK data (only what the model needs) → model bundle
# so a code-only change rebuilds the package layer and reuses the dependency layer, and a retrained
# model rebuilds only the last layer.
#
# Build (the model bundle must exist first: `socialscore run --mode prod`):
#   DOCKER_BUILDKIT=1 docker build -t social-score-api .
# With NLTK data (scripts/ci/docker_build.sh stages what bundle.json lists in build/nltk_data):
#   docker build --build-arg NLTK_DATA_SRC=build/nltk_data -t social-score-api .

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

COPY --from=uv /uv /usr/local/bin/uv

# bytecode compiled at build time (the runtime filesystem is read-only); copy, not hardlink, out of
# the cache mount; never download a Python: use the image's.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# 1) third-party runtime dependencies only: this layer depends on uv.lock and pyproject.toml alone
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

# 2) the package itself, installed as a wheel (not editable) so the runtime needs no src/
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-editable

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# Which directory of the build context holds the NLTK data the model needs. The default one holds
# only a README (the default model needs no NLTK data), so the COPY below works either way.
ARG NLTK_DATA_SRC=deploy/docker/no-nltk-data
# Which directory of the build context holds the serving bundle.
ARG MODELS_SRC=models

LABEL org.opencontainers.image.title="social-score-api" \
      org.opencontainers.image.description="Toxicity social score API (FastAPI + scikit-learn)" \
      org.opencontainers.image.licenses="MIT"

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    MPLCONFIGDIR=/tmp/matplotlib \
    NLTK_DATA=/opt/nltk_data \
    SOCIALSCORE_ENV=production \
    SOCIALSCORE_MODELS_DIR=/app/models \
    SOCIALSCORE_HOST=0.0.0.0 \
    SOCIALSCORE_PORT=8000 \
    SOCIALSCORE_WORKERS=2 \
    SOCIALSCORE_LOG_LEVEL=info

WORKDIR /app

# root-owned and read-only for the app user: nothing at runtime may change the code or the model
COPY --from=builder /app/.venv /app/.venv
COPY ${NLTK_DATA_SRC}/ /opt/nltk_data/
COPY ${MODELS_SRC}/model.joblib ${MODELS_SRC}/vectorizer.joblib ${MODELS_SRC}/bundle.json /app/models/

USER 10001:10001
EXPOSE 8000

# No curl in the image: the standard library does the request. /health is liveness only.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SOCIALSCORE_PORT', '8000') + '/health', timeout=4)"]

# Host, port and worker count come from the environment (the Deployment sets them); exec so that
# uvicorn is PID 1 and receives SIGTERM for a graceful drain.
CMD ["sh", "-c", "exec socialscore serve --host \"$SOCIALSCORE_HOST\" --port \"$SOCIALSCORE_PORT\" --workers \"$SOCIALSCORE_WORKERS\" --models-dir \"$SOCIALSCORE_MODELS_DIR\""]
