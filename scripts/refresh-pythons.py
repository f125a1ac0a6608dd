#!/usr/bin/env python3
"""Re-pins runtime/pythons.toml: each base image's tag, resolved to the digest its registry
serves today (the multi-arch image index where there is one), rewritten in place with the
date. It needs the registry, which the machines this project is built on cannot reach: run it
where ECR Public answers, then review the diff and run the suite.

    scripts/refresh-pythons.py                  every version, from public.ecr.aws
    scripts/refresh-pythons.py --only 3.14      one version
    scripts/refresh-pythons.py --registry URL   another registry with the same paths (a
                                                mirror; the tests use a local one)
    scripts/refresh-pythons.py --check          say what would change, write nothing

Exits 1 when a tag cannot be resolved (nothing is written then), 0 otherwise.
"""

import argparse
import json
import re
import sys
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "src" / "cloudsite" / "runtime" / "pythons.toml"
ACCEPT = ", ".join(
    (
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    )
)
IMAGE = re.compile(
    r'^(\[versions\."(?P<version>[\d.]+)"\]\n(?:(?!\[).*\n)*?)'
    r'image = "(?P<host>[^/"]+)/(?P<repository>[^:"]+):(?P<tag>[^@"]+)'
    r'@(?P<digest>sha256:[0-9a-f]{64})"\n',
    re.MULTILINE,
)


def resolve(registry: str, repository: str, tag: str) -> str:
    """The digest `registry` serves for repository:tag (HEAD on the manifest, with the
    anonymous pull token ECR Public and Docker Hub hand out when asked for one)."""
    url = f"{registry}/v2/{repository}/manifests/{tag}"
    headers = {"Accept": ACCEPT}
    for attempt in range(2):
        request = urllib.request.Request(url, method="HEAD", headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (a registry)
                digest = answer.headers.get("Docker-Content-Digest", "")
                if not digest.startswith("sha256:"):
                    raise SystemExit(f"{url}: no Docker-Content-Digest in the answer")
                return digest
        except urllib.error.HTTPError as error:
            challenge = error.headers.get("WWW-Authenticate", "")
            if error.code != 401 or attempt or not challenge.startswith("Bearer "):
                raise
            headers["Authorization"] = f"Bearer {_token(challenge, repository)}"
    raise AssertionError("unreachable")


def _token(challenge: str, repository: str) -> str:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    scope = fields.get("scope", f"repository:{repository}:pull")
    url = f"{fields['realm']}?service={fields.get('service', '')}&scope={scope}"
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 (the registry's realm)
        found = json.load(answer)
    return str(found.get("token") or found["access_token"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", action="append", default=[], metavar="X.Y")
    parser.add_argument("--registry", default="", help="default: https:// + the image's host")
    parser.add_argument("--table", type=Path, default=TABLE)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = args.table.read_text()
    today = date.today().isoformat()
    changes: list[tuple[str, str, str]] = []  # (version, old digest, new digest)
    failed = False
    for match in IMAGE.finditer(text):
        version = match.group("version")
        if args.only and version not in args.only:
            continue
        registry = (args.registry or f"https://{match.group('host')}").rstrip("/")
        reference = f"{match.group('repository')}:{match.group('tag')}"
        try:
            digest = resolve(registry, match.group("repository"), match.group("tag"))
        except (urllib.error.URLError, OSError) as error:
            print(f"{version}: {reference}: {error}", file=sys.stderr)
            failed = True
            continue
        state = "unchanged" if digest == match.group("digest") else "new digest"
        print(f"{version}: {reference} -> {digest} ({state})")
        changes.append((version, match.group("digest"), digest))
    if failed:
        print("nothing written: a tag did not resolve", file=sys.stderr)
        return 1
    if args.check:
        return 0
    for version, old, new in changes:
        text = _rewritten(text, version, old, new, today)
    args.table.write_text(text)
    return 0


def _rewritten(text: str, version: str, old: str, new: str, today: str) -> str:
    """`version`'s row with the new digest, and `pinned` saying when and from where."""
    start = text.index(f'[versions."{version}"]')
    end = text.find("\n[", start + 1)
    end = len(text) if end < 0 else end + 1
    row = text[start:end]
    tag = re.search(r'image = "[^"]*:([^:@"]+)@', row)
    assert tag is not None
    row = row.replace(old, new)
    row = re.sub(
        r'^pinned = ".*"$',
        f'pinned = "{tag.group(1)}, as its registry served it on {today}"',
        row,
        flags=re.MULTILINE,
    )
    return text[:start] + row + text[end:]


if __name__ == "__main__":
    sys.exit(main())
