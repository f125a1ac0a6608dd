#!/usr/bin/env bash
# Prepares a container engine for the engine suites, and the Debian base image they build on.
# There is no Docker daemon on the project's machines and no registry to pull from, so:
#   1. podman and runc from Debian, configured for this sandbox (a containers.conf drop-in);
#      skipped when a Docker daemon already answers;
#   2. debian:trixie-slim's stand-in: `debootstrap --variant=minbase trixie`, slimmed the way
#      the official image is (debuerreotype's slimify and minimizing config), cached as a tar
#      under .cache/engine and imported into the engine as $CLOUDSITE_BASE_IMAGE; bookworm's
#      and sid's the same way, when a Python needs them;
#   3. a stand-in for each Python that src/cloudsite/runtime/pythons.toml gives a `stand_in`
#      suite: for Debian's own interpreter, that suite's base (the build installs it, as on
#      AWS); for an official python image, the suite's base with Debian's pythonX.Y installed
#      and linked as python3, where the official image has its own.
# Idempotent and fast once done: every step checks before it acts.
#
#   scripts/podman.sh setup          1 and 2 (trixie); a machine that cannot gets a loud
#                                    warning (CI: an error)
#   scripts/podman.sh base [SUITE]   print a Debian suite's base image, building it if needed
#   scripts/podman.sh python X.Y     print Python X.Y's stand-in, building it if needed; exit 3
#                                    when no registry this machine reaches serves that version
#
# Reads:
#   CLOUDSITE_BASE_IMAGE  the local trixie base (default localhost/cstest-debian:trixie-slim)
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

suite_image() {
  # The engine's name for a Debian suite's base image.
  if [ "$1" = trixie ]; then echo "$base_image"; else echo "localhost/cstest-debian:$1-slim"; fi
}

slim_rootfs() {
  # What debuerreotype does for the official slim images: no docs, man pages or translations
  # (now or in later installs), apt that cleans up after itself, services that never start.
  local root=$1 suite=$2 updates security
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
  # deb822 sources with the security suite, as the official image ships them (sid has
  # neither an updates nor a security suite).
  as_root rm -f "$root/etc/apt/sources.list"
  updates=" $suite-updates"
  security=$(printf '\nTypes: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n' \
    "${mirror%/debian}/debian-security" "$suite-security" \
    /usr/share/keyrings/debian-archive-keyring.gpg)
  if [ "$suite" = sid ]; then
    updates="" security=""
    # The mirrors these machines reach serve sid as it was some weeks ago, and sid's Release
    # is valid for a week only: apt would refuse it as expired. The stand-in alone accepts it.
    echo 'Acquire::Check-Valid-Until "false";' \
      | as_root tee "$root/etc/apt/apt.conf.d/cstest-snapshot" >/dev/null
  fi
  as_root tee "$root/etc/apt/sources.list.d/debian.sources" >/dev/null <<EOF
Types: deb
URIs: $mirror
Suites: $suite$updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
$security
EOF
  as_root find "$root/usr/share/doc" -mindepth 1 ! -name copyright ! -type d -delete
  as_root find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  as_root rm -rf "$root"/usr/share/{man,info,groff,linda}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/* "$root"/var/log/*.log "$root"/var/log/apt/*
}

build_rootfs_tar() {
  local suite=$1 rootfs_tar=$cache/debian-$1-slim.tar
  [ -s "$rootfs_tar" ] && return 0
  command -v debootstrap >/dev/null || SYSTEM_PACKAGES=debootstrap scripts/system-packages.sh
  [ -n "$mirror" ] || fail "debootstrap: no Debian mirror in /etc/apt; set DEBIAN_MIRROR to one"
  mkdir -p "$cache"
  local root
  root=$(mktemp -d "$cache/rootfs.XXXXXX")
  # shellcheck disable=SC2064  # expand now: the trap must remove this very directory
  trap "as_root rm -rf '$root'" EXIT
  msg "base image: debootstrap --variant=minbase $suite (20 to 60 s, once)"
  as_root debootstrap --variant=minbase "$suite" "$root" "$mirror" \
    >"$cache/debootstrap-$suite.log" 2>&1 \
    || fail "debootstrap: $suite did not install; see $cache/debootstrap-$suite.log"
  slim_rootfs "$root" "$suite"
  as_root tar --numeric-owner -C "$root" -cf "$rootfs_tar.partial" .
  mv "$rootfs_tar.partial" "$rootfs_tar"
  as_root rm -rf "$root"
  trap - EXIT
}

import_base() {
  local cli=$1 suite=${2:-trixie} image
  image=$(suite_image "$suite")
  "$cli" image inspect "$image" >/dev/null 2>&1 && return 0
  build_rootfs_tar "$suite"
  msg "base image: importing $image into $cli"
  "$cli" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    "$cache/debian-$suite-slim.tar" "$image" >"$cache/import-$suite.log" 2>&1 \
    || fail "$cli import: the base image was not imported; see $cache/import-$suite.log"
}

python_stand_in() {
  # Python X.Y's stand-in (header, 3), on stdout.
  local cli=$1 version=$2 row interpreter suite image
  row=$(python3 - "$version" <<'EOF'
import sys, tomllib
with open("src/cloudsite/runtime/pythons.toml", "rb") as table:
    row = tomllib.load(table)["versions"].get(sys.argv[1])
print(f"{row['interpreter']} {row['stand_in'] or '-'}" if row else "")
EOF
)
  [ -n "$row" ] || fail "python: $version is not in src/cloudsite/runtime/pythons.toml"
  read -r interpreter suite <<<"$row"
  if [ "$suite" = - ]; then
    echo "python: no registry this machine reaches serves Python $version" >&2
    exit 3
  fi
  import_base "$cli" "$suite" >&2
  if [ "$interpreter" = debian ]; then suite_image "$suite"; return 0; fi
  image="localhost/cstest-python:$version-slim-$suite"
  if ! "$cli" image inspect "$image" >/dev/null 2>&1; then
    msg "python: $image, Debian $suite's python$version where an official image has its own" >&2
    mkdir -p "$cache/python-$version"
    cat >"$cache/python-$version/Containerfile" <<EOF
FROM $(suite_image "$suite")
RUN apt-get update \\
    && apt-get install -y --no-install-recommends python$version python$version-venv \\
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log \\
    && ln -s /usr/bin/python$version /usr/local/bin/python3 \\
    && ln -s /usr/bin/python$version /usr/local/bin/python
EOF
    "$cli" build --tag "$image" "$cache/python-$version" >"$cache/python-$version.log" 2>&1 \
      || fail "python: the stand-in for $version did not build; see $cache/python-$version.log"
  fi
  echo "$image"
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
    exec 9>"/tmp/cloudsite-engine-setup.lock"
    flock 9
    setup >&2
    [ "${2:-trixie}" = trixie ] || import_base "$(engine)" "$2" >&2
    suite_image "${2:-trixie}"
    ;;
  python)
    [ -n "${2:-}" ] || fail "podman.sh python: name a version, e.g. 3.14"
    exec 9>"/tmp/cloudsite-engine-setup.lock"
    flock 9
    setup >&2
    python_stand_in "$(engine)" "$2"
    ;;
  *) fail "podman.sh: '$command' is not a command; use setup, base or python" ;;
esac
