"""RDS's stand-in for `cloudsite local`: PostgreSQL from Debian, in a container of its own on
the rehearsal's network, its data in a volume. The password is made here, kept in
.cloudsite/local/secrets.json (0600) and handed to initdb on stdin: never in an image, a
container's configuration or a log. The site reaches it as DATABASE_URL, through the pipe.

    database_up(engine, name=..., folder=..., password=...) -> the DATABASE_URL
    database_names(name) -> the container, network, volume and image it makes (for down)
"""

import time
from pathlib import Path
from typing import Final

from cloudsite.errors import OperationError
from cloudsite.local.engine import LocalEngine
from cloudsite.runtime import pythons

DOCKERFILE: Final = """\
# PostgreSQL for `cloudsite local`: Debian's own, as the site's image is.
ARG BASE_IMAGE={base}
FROM ${BASE_IMAGE}
RUN apt-get update && apt-get install -y --no-install-recommends postgresql \\
    && rm -rf /var/lib/apt/lists/* && install -d -o postgres -g postgres /var/lib/postgresql/data
COPY postgres.sh /usr/local/bin/postgres.sh
USER postgres
ENTRYPOINT ["/bin/sh", "/usr/local/bin/postgres.sh"]
CMD ["serve"]
"""
# The runtime layer's own pin for its default Python (runtime/pythons.toml): Debian trixie.
BASE: Final = pythons.table()[pythons.DEFAULT].image
SCRIPT: Final = """\
#!/bin/sh
# postgres.sh init: initdb (or, over kept data, the new password) with the password on stdin;
# postgres.sh serve: the server.
set -eu
bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1)
data=/var/lib/postgresql/data
if [ "$1" = init ]; then
  if [ -s "$data/PG_VERSION" ]; then
    # The data outlived a `local down`: it takes the password handed over now (a URL-safe
    # token, so it needs no quoting), in single-user mode, with nothing logged.
    password=$(head -n 1)
    printf "ALTER ROLE cloudsite PASSWORD '%s';\n" "$password" \
      | "$bin/postgres" --single -D "$data" -c listen_addresses='' postgres >/dev/null
    exit 0
  fi
  "$bin/initdb" -D "$data" -U cloudsite --auth-host=scram-sha-256 --auth-local=trust \\
    --pwfile=/dev/stdin >/dev/null
  echo "host all all 0.0.0.0/0 scram-sha-256" >> "$data/pg_hba.conf"
  exit 0
fi
exec "$bin/postgres" -D "$data" -c listen_addresses='*' -c unix_socket_directories=/tmp
"""


def database_names(name: str) -> dict[str, str]:
    base = f"cloudsite-local-{name}"
    return {
        "container": f"{base}-db",
        "network": base,
        "volume": f"{base}-pgdata",
        "image": f"{base}-postgres:debian",
    }


def network_up(engine: LocalEngine, name: str) -> str:
    network = database_names(name)["network"]
    if engine.run("network", "inspect", network, check=False).returncode != 0:
        engine.run("network", "create", network)
    return network


def fixed_network(engine: LocalEngine, network: str, *, offset: int) -> list[str]:
    """`--ip ADDRESS --mac-address MAC` for a stand-in, both the same across restarts: the
    address because the site was given it, the MAC because the host's and the containers' ARP
    caches keep the old MAC for an address for half a minute, and a new MAC would leave the
    stand-in unreachable that long. [] when the network says no IPv4 subnet."""
    address = fixed_address(engine, network, offset=offset)
    if not address:
        return []
    mac = "02:42:" + ":".join(f"{int(part):02x}" for part in address.split("."))  # local, unique
    return ["--ip", address, "--mac-address", mac]


def run_fixed(
    engine: LocalEngine, run: list[str], serve: list[str], *, network: str, offset: int
) -> None:
    """`engine run` a stand-in (`run` names it with --name) with the address and MAC of
    fixed_network, or the address alone where the engine refuses a MAC (the Docker CLI
    against API 1.41, as podman serves it), or, where it cannot fix an address either (Docker
    on a network made without --subnet), with what the engine gives it."""
    fixed = fixed_network(engine, network, offset=offset)
    name = run[run.index("--name") + 1]
    for flags in (fixed, fixed[:2]) if fixed else ():
        if engine.run(*run, *flags, *serve, check=False).returncode == 0:
            return
        engine.run("rm", "--force", name, check=False)
    engine.run(*run, *serve)


def fixed_address(engine: LocalEngine, network: str, *, offset: int) -> str:
    """A host address near the network's end (offset 1: x.y.z.254 in a /24), for a stand-in:
    an address of its own across restarts, where the engine's allocator gives a restarted
    container a new one (podman's does), which would leave what the web containers were given
    (an --add-host, a DATABASE_URL) behind. "" when the network says no IPv4 subnet."""
    import ipaddress
    import json

    found = engine.run("network", "inspect", network, check=False)
    try:
        (info,) = json.loads(found.stdout or "[]")
    except ValueError:
        return ""
    subnets = [s.get("subnet", "") for s in info.get("subnets") or []]  # podman
    subnets += [c.get("Subnet", "") for c in (info.get("IPAM") or {}).get("Config") or []]
    for subnet in subnets:
        try:
            net = ipaddress.ip_network(subnet)
        except ValueError:
            continue
        if net.version == 4 and net.num_addresses >= 8:
            return str(net.broadcast_address - offset)
    return ""


def database_up(engine: LocalEngine, *, name: str, folder: Path, password: str) -> str:
    """Start (or find running) the database; returns its DATABASE_URL on the network."""
    names = database_names(name)
    network = network_up(engine, name)
    if engine.run("image", "inspect", names["image"], check=False).returncode != 0:
        context = folder / "postgres"
        context.mkdir(parents=True, exist_ok=True)
        (context / "Dockerfile").write_text(DOCKERFILE.replace("{base}", BASE))
        (context / "postgres.sh").write_text(SCRIPT)
        import os

        base = (
            ["--build-arg", f"BASE_IMAGE={os.environ['BASE_IMAGE']}"]
            if os.environ.get("BASE_IMAGE")
            else []
        )
        engine.run("build", *base, "--tag", names["image"], str(context), timeout=900)
    state = engine.run(
        "container", "inspect", "--format", "{{.State.Running}}", names["container"], check=False
    )
    if state.stdout.strip() != "true":
        engine.run("rm", "--force", names["container"], check=False)
        volume = f"{names['volume']}:/var/lib/postgresql/data"
        engine.run(
            "run",
            "--rm",
            "--interactive",
            "-v",
            volume,
            names["image"],
            "init",
            input=password + "\n",
        )
        run = ["run", "--detach", "--name", names["container"], "--network", network, "-v"]
        run += [volume, "--restart", "unless-stopped"]
        # An address of its own: podman gives a restarted container a new one, and the site's
        # DATABASE_URL names the address.
        run_fixed(engine, run, [names["image"], "serve"], network=network, offset=2)
    _wait_ready(engine, names["container"])
    address = engine.run(
        "container",
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        names["container"],
    ).stdout.strip()
    return f"postgres://cloudsite:{password}@{address}:5432/postgres?sslmode=disable"


def _wait_ready(engine: LocalEngine, container: str, *, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    probe = "bin=$(ls -d /usr/lib/postgresql/*/bin | tail -n 1); $bin/pg_isready -q -h /tmp"
    while engine.run("exec", container, "sh", "-c", probe, check=False).returncode != 0:
        if time.monotonic() > deadline:
            raise OperationError(
                "local database",
                f"{container} did not accept connections within {timeout:.0f} s",
                hint=f"its log: {engine.kind} logs {container}",
            )
        time.sleep(0.5)
