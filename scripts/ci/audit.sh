#!/usr/bin/env bash
# Dependency audit: pip-audit over every locked dependency (all extras and groups, exact versions and
# hashes from uv.lock). Fails on any known vulnerability; an accepted one must be listed in
# scripts/ci/audit-ignore.txt ("ID reason" per line).
#
# An audit that could not look a package up is not a pass: packages skipped because the
# vulnerability service was unreachable fail the audit too, unless AUDIT_ALLOW_UNREACHABLE=1, which
# turns that (and only that) into a loud warning — for networks that reach the package index but not
# its JSON API, where pip-audit gets its advisories.
source "$(dirname "$0")/common.sh"
export CI_STEP=audit
workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
uv export --frozen --all-extras --all-groups --no-emit-project --format requirements-txt \
  --output-file "$workdir/requirements.txt" >/dev/null
ignores=()
if [ -f scripts/ci/audit-ignore.txt ]; then
  while read -r id _; do
    case "$id" in ""|\#*) ;; *) ignores+=(--ignore-vuln "$id") ;; esac
  done < scripts/ci/audit-ignore.txt
fi
log "pip-audit over $(grep -c '==' "$workdir/requirements.txt") locked packages"
# --disable-pip: the requirements are fully pinned with hashes, so nothing is installed or resolved.
# pip-audit exits 1 when it finds a vulnerability; the summary below decides, from its JSON report.
status=0
uv_run pip-audit --disable-pip --requirement "$workdir/requirements.txt" --progress-spinner off \
  --format json --output "$workdir/audit.json" "${ignores[@]}" || status=$?
[ -s "$workdir/audit.json" ] || die "pip-audit produced no report (exit $status)"
allow=()
if [ "${AUDIT_ALLOW_UNREACHABLE:-0}" = 1 ]; then allow=(--allow-unreachable); fi
ci_python scripts/ci/audit_summary.py "$workdir/audit.json" "${allow[@]}"
