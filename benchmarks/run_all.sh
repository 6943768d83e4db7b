#!/usr/bin/env bash
# Every benchmark of docs/benchmarks.md in one dated run, one after the other (the machine should be
# otherwise idle). Results go to docs/figures/ (JSON + plot) and a log of everything printed.
#
#   bash benchmarks/run_all.sh            # the full set (about an hour on 2 cores)
#   QUICK=1 bash benchmarks/run_all.sh    # without the 1M-row case and the quality sweep
#
# Needs: uv, GNU time (/usr/bin/time), wrk (API), PostgreSQL at $PG_URL, ../shared/ beside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
OUT=docs/figures
STAMP=$(date -u +%Y%m%dT%H%MZ)
LOG=$OUT/benchmarks_$STAMP.log
mkdir -p "$OUT"
export NLTK_DATA=${NLTK_DATA:-$SHARED/nltk_data}

run() { echo; echo "## \$ $*  ($(date -u +%H:%M:%S) UTC, load $(cut -d' ' -f1-3 /proc/loadavg))"; "$@"; }

{
  echo "# socialscore benchmarks — $STAMP, code $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+uncommitted')"
  echo "# $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uv run python -V)"

  # 1. pipeline speed: one fresh JSON for this run
  rm -f "$OUT/pipeline_bench.json"
  run uv run python benchmarks/bench_pipeline.py \
    --cases dev-shared,dev-example,prod-10k,prod-100k,prod-160k --dbs sqlite,postgres
  if [[ -z "${QUICK:-}" ]]; then
    run uv run python benchmarks/bench_pipeline.py --cases prod-1m --dbs postgres,sqlite --timeout 3600 --max-memory-gib 22 \
      --no-import-profile || echo "prod-1m failed (see the table)"
  fi

  # 2. database load
  run uv run python benchmarks/bench_load.py --url "$PG_URL"

  # 3-5. model quality
  if [[ -z "${QUICK:-}" ]]; then
    run uv run --group bench python benchmarks/bench_quality.py --sweep --learning-curve \
      --json "$OUT/quality_bench.json"
  else
    run uv run --group bench python benchmarks/bench_quality.py --json "$OUT/quality_bench.json"
  fi

  # API (Part 3's figures), on the dev model trained on the shared Jigsaw sample
  project=$(mktemp -d)
  run uv run socialscore run --mode dev --project-dir "$project" \
    --data "$SHARED/data/jigsaw/cleaned_training_sample.csv" >/dev/null
  run uv run python benchmarks/bench_api.py --models-dir "$project/models" --duration 10 \
    --json "$OUT/api_bench.json"
  rm -rf "$project"
  echo; echo "# finished $(date -u +%H:%M:%S) UTC"
} 2>&1 | tee "$LOG"
