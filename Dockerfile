# syntax=docker/dockerfile:1.7
# social-score-api: the FastAPI service with the freshly trained model baked in.
#
# Stages and layers, from least to most often changed:
#   uv:       uv (pinned wheel) on the base
#   serve-deps: the API's dependencies only (the `serve` dependency group of uv.lock), no tests/ folders
#   full-deps:  every runtime dependency (training too), for the pipeline image
#   project:  the socialscore wheel installed --no-deps; only its own files are staged in /overlay
#   pipeline: the Vertex AI pipeline image (`--target pipeline`): full venv + package, runs as root
#   runtime:  the API image (default target): serving venv + package + user 10001 + the model bundle last
# so a code-only change rebuilds the package layer (MB) and reuses the dependency layer (the whole
# virtualenv), and a retrained model rebuilds only the last layer.
#
# Build (the model bundle must exist first: `socialscore run --mode prod`):
#   DOCKER_BUILDKIT=1 docker build -t social-score-api .
# scripts/ci/docker_build.sh stages bundle.json and the files the API loads (build/bundle: not the
# joblib export, a training artifact) and the NLTK data it names (build/nltk_data);
# scripts/ci/image_smoke.sh builds and runs it with buildah/podman.

# Pinned by digest (docs/deployment.md, "Base images"); override with --build-arg PYTHON_IMAGE=…
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:2e32f7d302adc1c37428355c1e646897c0c53f4fd60b6a551245fb90ee129f91

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS uv

# uv from PyPI, pinned by the sha256 of its wheels (deploy/docker/uv-requirements.txt)
COPY deploy/docker/uv-requirements.txt /tmp/uv-requirements.txt
RUN python -m pip install --no-cache-dir --require-hashes -r /tmp/uv-requirements.txt

# bytecode compiled at build time (the runtime filesystem is read-only); copy, not hardlink, out of
# the cache mount; never download a Python: use the image's.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=python3.11 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /app

# ---------------------------------------------------------------------------------------------
FROM uv AS serve-deps

# Which dependency group the API image installs: `serve`, or `serve-nltk` for a model that needs
# NLTK data (scripts/ci/docker_build.sh picks it from bundle.json).
ARG SERVE_GROUP=serve

# 1) the API's third-party dependencies only: this layer depends on uv.lock and pyproject.toml alone.
#    COPY, not a bind mount: buildah's layer cache does not hash bind-mounted files, so a changed lock
#    reused the old virtualenv (seen: an image without phonenumbers after it joined the lock).
#    Packages' own tests/ folders (and their bytecode) are deleted in the same layer.
COPY pyproject.toml uv.lock /app/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-default-groups --only-group "$SERVE_GROUP" --no-install-project \
    && find /app/.venv/lib -depth -type d -name tests -prune -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
FROM uv AS full-deps

# every runtime dependency of the package (training, reports, PostgreSQL): the pipeline image's
COPY pyproject.toml uv.lock /app/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project \
    && find /app/.venv/lib -depth -type d -name tests -prune -exec rm -rf {} +

# ---------------------------------------------------------------------------------------------
FROM uv AS project

# 2) the package itself, built as a wheel and installed --no-deps (its dependencies are the layer
#    above) so the runtime needs no src/; only the files this install adds (package, dist-info,
#    entry point) are staged under /overlay. The same files serve both images.
COPY pyproject.toml uv.lock README.md ./
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv venv /app/.venv \
    && uv pip install --no-deps --python /app/.venv/bin/python . \
    && site="$(/app/.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" \
    && mkdir -p "/overlay$site" /overlay/app/.venv/bin \
    && cp -a "$site"/socialscore "$site"/socialscore-*.dist-info "/overlay$site/" \
    && cp -a /app/.venv/bin/socialscore /overlay/app/.venv/bin/

# ---------------------------------------------------------------------------------------------
# What both images share: labels and the environment.
FROM ${PYTHON_IMAGE} AS common

LABEL org.opencontainers.image.title="social-score-api" \
      org.opencontainers.image.description="Toxicity social score API (FastAPI + scikit-learn)" \
      org.opencontainers.image.licenses="MIT"

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp \
    NUMBA_CACHE_DIR=/tmp/numba \
    NLTK_DATA=/opt/nltk_data \
    SOCIALSCORE_ENV=production \
    SOCIALSCORE_MODELS_DIR=/app/models \
    SOCIALSCORE_HOST=0.0.0.0 \
    SOCIALSCORE_PORT=8000 \
    SOCIALSCORE_WORKERS=2 \
    SOCIALSCORE_LOG_LEVEL=info

WORKDIR /app

# ---------------------------------------------------------------------------------------------
# The Vertex AI pipeline's components run here (scripts/ci/docker_build.sh pushes it as
# <image>-pipeline). KFP's launcher and kfp.local's DockerRunner write artifacts into root-owned
# mounts, and KFP has no per-component securityContext, so this image keeps the base's root user.
FROM common AS pipeline

ENV MPLCONFIGDIR=/tmp/matplotlib

# Which directory of the build context holds the NLTK data the model needs. The default one holds
# only a README (the default model needs no NLTK data), so the COPY below works either way.
ARG NLTK_DATA_SRC=deploy/docker/no-nltk-data

COPY --from=full-deps /app/.venv /app/.venv
COPY --from=project /overlay/ /
COPY ${NLTK_DATA_SRC}/ /opt/nltk_data/

# ---------------------------------------------------------------------------------------------
FROM common AS runtime

# the app user first: a code-only change then ships the package layer alone
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

ARG NLTK_DATA_SRC=deploy/docker/no-nltk-data
# Which directory of the build context holds the serving bundle: bundle.json and the files it
# lists. .dockerignore keeps models/registry/, models/versions/ and training-only files out.
ARG MODELS_SRC=models

# root-owned and read-only for the app user: nothing at runtime may change the code or the model.
# Dependencies and code are separate layers: a code-only change ships the package layer (and the
# kernels compiled from it, below) only.
COPY ${NLTK_DATA_SRC}/ /opt/nltk_data/
COPY --from=serve-deps /app/.venv /app/.venv
COPY --from=project /overlay/ /

# numba's kernels compiled here, for the generic x86-64 CPU (the cache key names the CPU: any node
# then hits it), into a cache the image ships read-only; at start the API copies it into the
# writable NUMBA_CACHE_DIR (/tmp), so a fresh pod compiles nothing (src/socialscore/api/numba_cache.py).
# The same command saves the language model unpacked (/app/numba-cache/language-model, 68 MB), which the
# workers map in place instead of decompressing it (~0.9 CPU s each).
# Its own layer (~70 MB), rebuilt with the package. The pipeline image compiles on first use.
ENV NUMBA_CPU_NAME=generic \
    SOCIALSCORE_NUMBA_SHIPPED_CACHE=/app/numba-cache
RUN socialscore warm-cache /app/numba-cache

# the model bundle: the last layer, so a retrained model ships only this
COPY ${MODELS_SRC}/ /app/models/

USER 10001:10001
EXPOSE 8000

# No curl in the image: the standard library does the request. /health is liveness only.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('SOCIALSCORE_PORT', '8000') + '/health', timeout=4)"]

# Host, port and worker count come from the environment (the Deployment sets them); exec so that
# uvicorn is PID 1 and receives SIGTERM for a graceful drain.
CMD ["sh", "-c", "exec socialscore serve --host \"$SOCIALSCORE_HOST\" --port \"$SOCIALSCORE_PORT\" --workers \"$SOCIALSCORE_WORKERS\" --models-dir \"$SOCIALSCORE_MODELS_DIR\""]
