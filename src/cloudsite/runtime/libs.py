"""The shared libraries the virtualenv's compiled code loads, in the image build (Dockerfile):

    python3 libs.py packages VENV REPORT   build stage: print the Debian packages that own the
                                           libraries it links and `python` lacks, one a line
                                           (the rootfs stage installs them); REPORT records
                                           what the build stage could not find either
    python3 libs.py check VENV REPORT      checked stage: each library resolves in what the
                                           image keeps, or the build ends naming it

A library missing from the build stage too is only a warning here: the extension may be one
the project never imports, and prepare.py's first import names the library when it is not.
The standard library only; `ldd` and `dpkg` are the base's own.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

# What the `python` stage had installed (the Dockerfile writes it): not installed again.
PYTHON_STAGE = Path("/tmp/python-stage-packages.txt")  # noqa: S108 (build stages only)
LINE = re.compile(r"^\s*(\S+) => (not found|(/\S+))")
SEARCH = "https://packages.debian.org/search?searchon=contents&keywords={}"


def elf_files(venv: Path) -> list[Path]:
    found = []
    for folder, _dirs, files in os.walk(venv):
        for name in files:
            path = Path(folder, name)
            if path.is_symlink() or not path.is_file():
                continue
            with open(path, "rb") as handle:
                if handle.read(4) == b"\x7fELF":
                    found.append(path)
    return sorted(found)


def linked(path: Path) -> dict[str, str]:
    """{soname: the file it resolves to, or ""} for one ELF file, as the loader sees it."""
    result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False)
    libraries = {}
    for line in result.stdout.splitlines():
        if match := LINE.match(line):
            libraries[match.group(1)] = match.group(3) or ""
    return libraries


def scan(venv: Path) -> tuple[set[str], dict[str, list[str]]]:
    """({library file outside the virtualenv}, {missing soname: the files needing it}).
    A library a wheel vendors (auditwheel's `NAME.libs/`) that links a sibling by its own
    name is not missing: the extension loads the sibling first, and the loader reuses it."""
    outside: set[str] = set()
    missing: dict[str, list[str]] = {}
    files = elf_files(venv)
    vendored = {path.name for path in files}
    for path in files:
        for soname, target in linked(path).items():
            if not target and soname in vendored:
                continue
            if not target:
                missing.setdefault(soname, []).append(str(path.relative_to(venv)))
            elif not target.startswith(str(venv) + "/"):
                outside.add(target)
    return outside, missing


def owner(path: str) -> str:
    """The Debian package that ships `path` ('' when none does: the base's own /usr/local)."""
    candidates = [path, os.path.realpath(path)]
    for candidate in list(candidates):
        if candidate.startswith("/usr/"):
            candidates.append(candidate.removeprefix("/usr"))
        else:
            candidates.append("/usr" + candidate)
    for candidate in dict.fromkeys(candidates):
        result = subprocess.run(
            ["dpkg-query", "-S", candidate], capture_output=True, text=True, check=False
        )
        if result.returncode == 0 and result.stdout:
            return result.stdout.split(":")[0].split(",")[0].strip()
    return ""


def packages(venv: Path, report: Path) -> int:
    outside, missing = scan(venv)
    had = set(PYTHON_STAGE.read_text().split()) if PYTHON_STAGE.is_file() else set()
    wanted = {name for path in outside if (name := owner(path)) and name not in had}
    for soname, files in sorted(missing.items()):
        print(
            f"cloudsite: warning: {files[0]} links {soname}, which no package here ships: "
            f"it fails when imported (system_packages names the Debian package; "
            f"{SEARCH.format(soname)})",
            file=sys.stderr,
        )
    report.write_text(json.dumps({"missing": missing}, indent=1, sort_keys=True))
    print(
        f"==> run-time libraries: {len(outside)} outside the virtualenv; from packages the "
        f"image adds: {', '.join(sorted(wanted)) or 'none'}",
        file=sys.stderr,
    )
    if wanted:
        print("\n".join(sorted(wanted)))
    return 0


def check(venv: Path, report: Path) -> int:
    before = json.loads(report.read_text())["missing"] if report.is_file() else {}
    _outside, missing = scan(venv)
    lost = {soname: files for soname, files in missing.items() if soname not in before}
    if not lost:
        return 0
    soname, files = sorted(lost.items())[0]
    print(
        f"cloudsite: error: {files[0]} links {soname}, which the build stage had and the image "
        f"does not ({len(lost)} such librar{'y' if len(lost) == 1 else 'ies'})",
        file=sys.stderr,
    )
    print(
        "cloudsite: hint: add the Debian package that ships it to system_packages in "
        f"cloudsite.toml ({SEARCH.format(soname)})",
        file=sys.stderr,
    )
    return 2


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] not in ("packages", "check"):
        print("usage: libs.py packages|check VENV REPORT", file=sys.stderr)
        return 2
    verb, venv, report = argv[0], Path(argv[1]), Path(argv[2])
    return packages(venv, report) if verb == "packages" else check(venv, report)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
