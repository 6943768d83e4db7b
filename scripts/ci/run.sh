#!/usr/bin/env bash
# Run cloudbuild.yaml steps locally, e.g.:
#   CACHE_URL=file:///tmp/socialscore-cache scripts/ci/run.sh restore-cache tests train-model save-cache
set -euo pipefail
cd "$(dirname "$0")/../.."
exec uv run --frozen python scripts/ci/cloudbuild_local.py "$@"
