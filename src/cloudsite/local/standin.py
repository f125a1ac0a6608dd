"""What the stand-ins of `cloudsite local` share (media.py's S3, broker.py's SQS and Valkey;
database.py's PostgreSQL has its own older path):

    image(engine, image, context, dockerfile, files, label) -> the image's id, built when it
        is missing or its recipe (the Dockerfile, the files, the base) changed
    address(engine, container) -> the container's address on the rehearsal's network
"""

import hashlib
import os
from pathlib import Path

from cloudsite.local.database import BASE
from cloudsite.local.engine import LocalEngine


def image(
    engine: LocalEngine,
    image: str,
    context: Path,
    dockerfile: str,
    files: dict[str, str | bytes],
    *,
    label: str,
) -> str:
    """Build `image` from `dockerfile` ({base} is the pinned Debian base) and `files` in
    `context`, unless an image of that recipe is there; returns its id. The build gets
    BASE_IMAGE and PIP_INDEX_URL from the engine's environment, as the site's build does."""
    base = engine.env.get("BASE_IMAGE") or BASE
    parts = [dockerfile, base] + [f"{n}\0{c!r}" for n, c in sorted(files.items())]
    recipe = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    found = engine.run(
        "image", "inspect", "--format", f'{{{{index .Config.Labels "{label}"}}}}', image,
        check=False,
    )  # fmt: skip
    if found.returncode != 0 or found.stdout.strip() != recipe:
        context.mkdir(parents=True, exist_ok=True)
        (context / "Dockerfile").write_text(dockerfile.replace("{base}", BASE))
        for name, content in files.items():
            target = context / name
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        args = ["--label", f"{label}={recipe}"]
        for variable in ("BASE_IMAGE", "PIP_INDEX_URL"):
            if engine.env.get(variable):
                args += ["--build-arg", f"{variable}={engine.env[variable]}"]
        if os.environ.get("CLOUDSITE_BUILD_NETWORK"):
            args += ["--network", os.environ["CLOUDSITE_BUILD_NETWORK"]]
        engine.run("build", *args, "--tag", image, str(context), timeout=900)
    built = engine.run("image", "inspect", "--format", "{{.Id}}", image).stdout.strip()
    return built.removeprefix("sha256:")


def ca_pem() -> bytes:
    """The host's CA bundle (a TLS-inspecting proxy's), as the site's build trusts it, or
    nothing: a stand-in whose build fetches from PyPI copies it in as ca.pem."""
    from cloudsite.runtime.build import _ca_bundle

    found = _ca_bundle()
    return Path(found).read_bytes() if found else b""


def address(engine: LocalEngine, container: str) -> str:
    return engine.run(
        "container",
        "inspect",
        "--format",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        container,
    ).stdout.strip()
