"""`cloudsite local down`: everything `local up` made goes, except the data unless asked
(docs/data.md): the database's and media's volumes, and the keys in secrets.json that open
them. Then a check that nothing else is left.

    down(local, delete_data=...) -> what is left that should not be (nothing, normally)
    kept(local)                  -> what stays on purpose
"""

import contextlib

from cloudsite.local import broker, database, edge
from cloudsite.local import media as media_mod
from cloudsite.local.site import GITIGNORE, SECRETS_FILE, Local, edge_for


def down(local: Local, *, delete_data: bool = False) -> list[str]:
    """Remove everything `up` made, except the data (the database's and media's volumes, and
    their keys in secrets.json) unless `delete_data`; returns what is still there and should
    not be (nothing, normally). `kept` lists what stays on purpose."""
    import shutil

    from cloudsite.local import schedule

    schedule.stop(local)
    edge_pids = []
    for kind in [local.state.edge] if local.state else edge.KINDS:  # no state: any pid file
        balancer = edge_for(local, kind)
        edge_pids.append(balancer.pid())
        balancer.stop()
    prefix = f"cloudsite-local-{local.name}-"
    names = database.database_names(local.name)
    for container in _containers(local, prefix):
        local.engine.run("rm", "--force", container, check=False)
    for tag in _images(local):
        local.engine.run("image", "rm", "--force", tag, check=False)
    local.engine.run("image", "rm", "--force", names["image"], check=False)
    media_mod.media_down(local.engine, name=local.name, delete_data=delete_data)
    broker.broker_down(local.engine, name=local.name, delete_data=delete_data)
    if delete_data:
        local.engine.run("volume", "rm", "--force", names["volume"], check=False)
    local.engine.run("network", "rm", names["network"], check=False)
    keep = [] if delete_data or not _volumes(local) else [SECRETS_FILE]
    for path in local.folder.iterdir() if local.folder.is_dir() else []:
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    if not keep:
        shutil.rmtree(local.folder, ignore_errors=True)
    shutil.rmtree(local.socket.parent, ignore_errors=True)
    ignore = local.folder.parent / ".gitignore"
    if not keep and ignore.is_file() and ignore.read_text() == GITIGNORE:  # up wrote it
        ignore.unlink()
        with contextlib.suppress(OSError):
            local.folder.parent.rmdir()  # only when nothing else (an ejected layer) is there
    return leftovers(local, edge_pids=edge_pids)


def _volumes(local: Local) -> list[str]:
    """The data volumes of this rehearsal that exist: the database's, media's and Valkey's."""
    wanted = (
        database.database_names(local.name)["volume"],
        media_mod.media_names(local.name)["volume"],
        broker.broker_names(local.name)["valkey_volume"],
    )
    return [
        v for v in wanted if local.engine.run("volume", "inspect", v, check=False).returncode == 0
    ]


def kept(local: Local) -> list[str]:
    """What `local down` keeps on purpose: the data volumes, and the keys that open them."""
    found = [f"volume {v}" for v in _volumes(local)]
    if found and (local.folder / SECRETS_FILE).is_file():
        found.append(f"file {local.folder / SECRETS_FILE} (their keys, 0600)")
    return found


def leftovers(local: Local, *, edge_pids: list[int] | None = None) -> list[str]:
    """What of a rehearsal is still there and is not kept data: containers, images, network,
    files beside the kept keys, the edge."""
    names = database.database_names(local.name)
    left = [f"container {c}" for c in _containers(local, f"cloudsite-local-{local.name}-")]
    left += [f"image {t}" for t in _images(local)]
    for kind in ("network", "image"):
        if local.engine.run(kind, "inspect", names[kind], check=False).returncode == 0:
            left.append(f"{kind} {names[kind]}")
    stand_ins = broker.broker_names(local.name)
    for image in (
        media_mod.media_names(local.name)["image"],
        stand_ins["valkey_image"],
        stand_ins["sqs_image"],
    ):
        if local.engine.run("image", "inspect", image, check=False).returncode == 0:
            left.append(f"image {image}")
    data = bool(_volumes(local))
    if local.folder.exists():
        others = [p.name for p in local.folder.iterdir() if not (data and p.name == SECRETS_FILE)]
        if others or not data:
            left.append(
                f"folder {local.folder}" + (f" ({', '.join(sorted(others))})" if others else "")
            )
    if local.socket.parent.exists():
        left.append(f"folder {local.socket.parent}")
    left += [f"the edge (pid {pid})" for pid in edge_pids or [] if edge.alive(pid, wait=10)]
    return left


def _containers(local: Local, prefix: str) -> list[str]:
    found = local.engine.run("ps", "--all", "--format", "{{.Names}}", check=False).stdout.split()
    return [name for name in found if name.startswith(prefix)]


def _images(local: Local) -> list[str]:
    found = local.engine.run(
        "images", "--format", "{{.Repository}}:{{.Tag}}", check=False
    ).stdout.split()
    return [ref for ref in found if ref.split("/")[-1].startswith(f"{local.name}:release-")]
