#!/usr/bin/env bash
# Prepare data/raw/cleaned_training_sample.csv, the file `socialscore run` reads first.
#
#   1. keep it if it exists (also picked up from the original spec's data/cleaned_training_sample.csv);
#   2. else build it from the first labelled file of data/raw/prod.csv, data/prod.csv,
#      train.csv/train.csv (the Kaggle download), data/raw/train.csv, data/train.csv:
#      detect the text column, keep id + text + labels, drop blank texts and bad labels,
#      scrub PII and take a stratified sample of SAMPLE_ROWS (10,000) rows;
#   3. else write the synthetic example dataset through the CLI (`socialscore generate`).
#
# Usage: scripts/prepare_training_data.sh [PROJECT_DIR]   (default: the current directory)
# Env:   SAMPLE_ROWS (10000), SEED (42), SOCIALSCORE_PYTHON (a python with socialscore installed;
#        default: `uv run python` in this repository when uv is on PATH, else python3).
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
project_dir="${1:-.}"
cd "$project_dir"
rows="${SAMPLE_ROWS:-10000}"
seed="${SEED:-42}"
out="data/raw/cleaned_training_sample.csv"
legacy="data/cleaned_training_sample.csv"

if [[ -n "${SOCIALSCORE_PYTHON:-}" ]]; then
    py=("$SOCIALSCORE_PYTHON")
elif command -v uv >/dev/null 2>&1; then
    py=(uv run --quiet --project "$repo_dir" python)
else
    py=(python3)
fi

mkdir -p data/raw

if [[ -s "$out" ]]; then
    echo "keeping existing $out"
    exit 0
fi
if [[ -s "$legacy" ]]; then
    cp "$legacy" "$out"
    echo "keeping existing $legacy (copied to $out, where the pipeline reads it)"
    exit 0
fi

for source in data/raw/prod.csv data/prod.csv train.csv/train.csv data/raw/train.csv data/train.csv; do
    [[ -f "$source" ]] || continue
    echo "building $out from $source (stratified sample of $rows rows)"
    status=0
    "${py[@]}" -m socialscore sample "$source" "$out" --rows "$rows" --seed "$seed" || status=$?
    case "$status" in
        0) exit 0 ;;
        3) echo "  $source has no labels; trying the next file" ;;
        *) echo "error: could not build $out from $source" >&2; exit "$status" ;;
    esac
done

echo "no labelled source found: generating the synthetic example dataset into $out"
"${py[@]}" -m socialscore generate --output "$out" --seed "$seed"
