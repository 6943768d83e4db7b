#!/usr/bin/env bash
# Build a local stand-in for python:3.11-slim-bookworm from Debian packages, for machines that reach
# deb.debian.org but no image registry: debootstrap (minbase) + python3.11, pip, ca-certificates,
# imported into the vfs container storage that buildah and podman share. Prints the image name.
#
#   scripts/ci/local_base_image.sh            # reuses the image when it exists
# Env: SMOKE_CACHE (work dir, default /var/tmp/socialscore-image-smoke), DEBIAN_MIRROR, BASE_IMAGE,
#      HOST_CA_BUNDLE: this machine's CA bundle, copied in so pip and uv inside the build trust the
#      same TLS roots as the host (e.g. an egress proxy's CA); default /etc/ssl/certs/ca-certificates.crt;
#      PODMAN (the podman command and storage flags; default "podman --storage-driver vfs").
source "$(dirname "$0")/common.sh"
export CI_STEP=local-base
BASE_IMAGE="${BASE_IMAGE:-localhost/socialscore-python:3.11-bookworm}"
SMOKE_CACHE="${SMOKE_CACHE:-/var/tmp/socialscore-image-smoke}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
read -r -a PODMAN <<<"${PODMAN:-podman --storage-driver vfs}"

if "${PODMAN[@]}" image exists "$BASE_IMAGE"; then
  log "reusing $BASE_IMAGE" >&2
  echo "$BASE_IMAGE"
  exit 0
fi
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install -y debootstrap"
[ "$(id -u)" = 0 ] || die "debootstrap needs root"

rootfs="$SMOKE_CACHE/rootfs"
rm -rf "$rootfs" && mkdir -p "$SMOKE_CACHE"
log "debootstrap bookworm from $DEBIAN_MIRROR into $rootfs (a few minutes)" >&2
debootstrap --variant=minbase --include=python3.11,python3-pip,python-is-python3,ca-certificates \
  bookworm "$rootfs" "$DEBIAN_MIRROR" >"$SMOKE_CACHE/debootstrap.log" 2>&1 \
  || die "debootstrap failed: see $SMOKE_CACHE/debootstrap.log"
# like the official image: pip may install into the image's Python (no PEP 668 marker), no apt lists
rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
if [ -f "$HOST_CA_BUNDLE" ]; then cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"; fi
tar -C "$rootfs" -c . | "${PODMAN[@]}" import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["python3"]' - "$BASE_IMAGE" >&2
rm -rf "$rootfs"
log "built $BASE_IMAGE" >&2
echo "$BASE_IMAGE"
