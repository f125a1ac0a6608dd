#!/usr/bin/env bash
# Prepares a container engine for the engine suites, and the Debian base image they build on.
# There is no Docker daemon on the project's machines and no registry to pull from, so:
#   1. podman and runc from Debian, configured for this sandbox (a containers.conf drop-in);
#      skipped when a Docker daemon already answers;
#   2. debian:trixie-slim's stand-in: `debootstrap --variant=minbase trixie`, slimmed the way
#      the official image is (debuerreotype's slimify and minimizing config), cached as a tar
#      under .cache/engine and imported into the engine as $CLOUDSITE_BASE_IMAGE.
# Idempotent and fast once done: every step checks before it acts.
#
#   scripts/podman.sh setup   do both; a machine that cannot gets a loud warning (CI: an error)
#   scripts/podman.sh base    print the base image name, building it first if needed
#
# Reads:
#   CLOUDSITE_BASE_IMAGE  the local base image (default localhost/cstest-debian:trixie-slim)
#   DEBIAN_MIRROR         the Debian mirror for debootstrap (default: the one this machine's apt uses)
#   DOCKER_HOST           when it (or the default socket) reaches a Docker daemon, podman is
#                         left alone and the base image is imported into that daemon instead
#   CI                    "true": a failed set-up fails the run instead of skipping suites
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/common.sh
source scripts/lib/common.sh

base_image=${CLOUDSITE_BASE_IMAGE:-localhost/cstest-debian:trixie-slim}

host_mirror() {
  # The main Debian mirror this machine's apt already uses (deb822 .sources or sources.list).
  local found
  found=$({ grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}'
            grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '{print $2}'
          } | grep -v -- '-security' | head -n 1) || true
  echo "$found"
}
mirror=${DEBIAN_MIRROR:-$(host_mirror)}
cache=$PWD/.cache/engine
rootfs_tar=$cache/debian-trixie-slim.tar
conf_dropin=/etc/containers/containers.conf.d/50-cloudsite.conf

engine() {
  # The engine the suites will use: a Docker daemon (or API) when one answers, podman otherwise.
  if command -v docker >/dev/null && docker version >/dev/null 2>&1; then echo docker; else echo podman; fi
}

configure_podman() {
  SYSTEM_PACKAGES="podman runc debootstrap" scripts/system-packages.sh
  [ -f "$conf_dropin" ] && return 0
  msg "podman: configuring runc, cgroupfs and the sandbox's ulimits ($conf_dropin)"
  as_root mkdir -p "$(dirname "$conf_dropin")"
  # The sandbox cannot raise RLIMIT_NOFILE past 20000 (podman asks for 1048576), and crun
  # fails here with "cgroups in hybrid mode not supported"; runc works.
  as_root tee "$conf_dropin" >/dev/null <<'EOF'
# Written by cloudsite's scripts/podman.sh for its test suites.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
}

slim_rootfs() {
  # What debuerreotype does for the official slim images: no docs, man pages or translations
  # (now or in later installs), apt that cleans up after itself, services that never start.
  local root=$1
  as_root tee "$root/etc/dpkg/dpkg.cfg.d/docker" >/dev/null <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
EOF
  echo force-unsafe-io | as_root tee "$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup" >/dev/null
  as_root tee "$root/etc/apt/apt.conf.d/docker-clean" >/dev/null <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' | as_root tee "$root/etc/apt/apt.conf.d/docker-no-languages" >/dev/null
  echo 'Acquire::GzipIndexes "true";' | as_root tee "$root/etc/apt/apt.conf.d/docker-gzip-indexes" >/dev/null
  printf '#!/bin/sh\nexit 101\n' | as_root tee "$root/usr/sbin/policy-rc.d" >/dev/null
  as_root chmod 0755 "$root/usr/sbin/policy-rc.d"
  # deb822 sources with the security suite, as the official image ships them.
  as_root rm -f "$root/etc/apt/sources.list"
  as_root tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: trixie trixie-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: trixie-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  as_root find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  as_root find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  as_root rm -rf "$root"/usr/share/{man,info,groff,linda}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/* "$root"/var/log/*.log "$root"/var/log/apt/*
}

build_rootfs_tar() {
  [ -s "$rootfs_tar" ] && return 0
  command -v debootstrap >/dev/null || SYSTEM_PACKAGES=debootstrap scripts/system-packages.sh
  [ -n "$mirror" ] || fail "debootstrap: no Debian mirror in /etc/apt; set DEBIAN_MIRROR to one"
  mkdir -p "$cache"
  local root
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
  trap "as_root rm -rf '$root'" EXIT
  msg "base image: debootstrap --variant=minbase trixie (20 to 60 s, once)"
  as_root debootstrap --variant=minbase trixie "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 \
    || fail "debootstrap: trixie did not install; see $cache/debootstrap.log"
  slim_rootfs "$root"
  as_root tar --numeric-owner -C "$root" -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
  as_root rm -rf "$root"
  trap - EXIT
}

import_base() {
  local cli=$1
  "$cli" image inspect "$base_image" >/dev/null 2>&1 && return 0
  build_rootfs_tar
  msg "base image: importing $base_image into $cli"
  "$cli" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$rootfs_tar" "$base_image" >"$cache/import.log" 2>&1 \
    || fail "$cli import: the base image was not imported; see $cache/import.log"
}

setup() {
  local kind
  kind=$(engine)
  if [ "$kind" = podman ]; then
    configure_podman
    podman info >/dev/null 2>&1 || fail "podman: installed but 'podman info' fails"
    import_base podman
  else
    import_base docker  # a Docker daemon answers: nothing to install or configure
  fi
}

command=${1:-setup}
case "$command" in
  setup)
    exec 9>"/tmp/cloudsite-engine-setup.lock"
    flock 9  # one set-up at a time on this machine (the image store is shared)
    if ! (setup); then
      in_ci && fail "container engine: set-up failed, and CI never skips the engine suites"
      printf '\n!!! container engine: set-up failed; the engine suites will be SKIPPED !!!\n\n' >&2
    fi
    ;;
  base)
    setup >&2
    echo "$base_image"
    ;;
  *) fail "podman.sh: '$command' is not a command; use setup or base" ;;
esac
