#!/usr/bin/env bash
# Build the local Debian bookworm base image (everest/debian-base:bookworm) without a registry.
#
# debootstrap makes a minimal root filesystem from Debian packages; `docker import` turns it into
# an image. The root filesystem tarball is cached outside the checkout so later runs take seconds;
# the cache is optional: a fresh machine builds from nothing (about a minute).
#
#   docker/base/build.sh            build (or import from cache) unless the image exists
#   docker/base/build.sh --force    rebuild the tarball and re-import
#
# Environment: EVEREST_CACHE_DIR (default /var/cache/everest), DEBIAN_MIRROR, BASE_TAG.
set -euo pipefail

TAG=${BASE_TAG:-everest/debian-base:bookworm}
CACHE=${EVEREST_CACHE_DIR:-/var/cache/everest}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Packages every image built on this base needs; python3-venv because bookworm's pip refuses
# system-wide installs (PEP 668), so images install into a virtual environment.
INCLUDE=python3,python3-venv,python3-pip,ca-certificates,git,tini
# The tarball name carries what went into it, so a change of package list rebuilds it.
KEY=$(printf '%s\n' "$INCLUDE" "$MIRROR" | sha256sum | cut -c1-12)
TARBALL="$CACHE/debian-base-bookworm-$KEY.tar"
FORCE=${1:-}

say() { printf '\033[1m[base]\033[0m %s\n' "$*" >&2; }

if [ "$FORCE" != "--force" ] && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG exists"
  exit 0
fi

mkdir -p "$CACHE"
if [ "$FORCE" = "--force" ] || [ ! -s "$TARBALL" ]; then
  command -v debootstrap >/dev/null || { say "debootstrap is not installed (apt-get install debootstrap)"; exit 1; }
  ROOTFS=$(mktemp -d "$CACHE/rootfs.XXXXXX")
  trap 'rm -rf "$ROOTFS"' EXIT
  say "debootstrap bookworm into $ROOTFS (about a minute)"
  debootstrap --variant=minbase --include="$INCLUDE" bookworm "$ROOTFS" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
    || { say "debootstrap failed; see $CACHE/debootstrap.log"; exit 1; }
  # Smaller image: package lists and caches are not needed at run time.
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/archives/*.deb
  # Atomic: a half-written tarball never looks like a cached one.
  tar -C "$ROOTFS" -cf "$TARBALL.part" .
  mv "$TARBALL.part" "$TARBALL"
fi

say "importing $TARBALL as $TAG"
docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["/bin/bash"]' \
  "$TARBALL" "$TAG" >/dev/null
say "$TAG ready"
