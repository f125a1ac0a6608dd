#!/usr/bin/env bash
# Installs the Debian packages that the test suites and benchmarks need, when they are missing.
# Idempotent: packages already present are not reinstalled, and apt-get runs only when needed.
#
# Reads:
#   SYSTEM_PACKAGES  optional, space-separated subset to install (default: all below)
#
# Every package here is on purpose:
#   postgresql           the database the suite also runs against (RDS's stand-in)
#   podman runc          a container engine (no Docker daemon on these machines)
#   debootstrap          builds the Debian base image locally (no registry to pull from)
#   docker-registry      a local registry in ECR's place
#   haproxy              the load balancer in the ALB's place (health checks, draining, TLS)
#   nginx                the other TLS edge `cloudsite local` runs, and the benchmark ceiling
#   wrk                  the load generator
#   chromium             headless browser tests and Lighthouse
#   graphviz             renders the architecture diagram from the template
#   openssl git curl     certificates for TLS tests, local repositories, probes
#   systemd              systemd-analyze checks the timer units the deploy hooks install
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib/common.sh
source "$here/lib/common.sh"

all="postgresql podman runc debootstrap docker-registry haproxy nginx wrk chromium graphviz openssl git curl systemd"
wanted=${SYSTEM_PACKAGES:-$all}

missing=()
for p in $wanted; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

msg "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt run (a parallel job) instead of failing on the dpkg lock.
apt_opts=(-o DPkg::Lock::Timeout=900 -y -q --no-install-recommends)
as_root apt-get -o DPkg::Lock::Timeout=900 -q update >/dev/null
as_root apt-get install "${apt_opts[@]}" "${missing[@]}" >/dev/null
# Debian starts services on install; the project runs its own instances on its own ports.
for svc in postgresql nginx haproxy docker-registry; do
  as_root service "$svc" stop >/dev/null 2>&1 || true
done
