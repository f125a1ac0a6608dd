"""The tests' manage.py, run by tests/support/instance/manage.sh:
emit CHARS [CODE]       CHARS characters of numbered 100-character lines on stdout, a line
                        on stderr, then exit CODE (0)
sleep SECONDS           "working", then sleep
createsuperuser ...     read the one-off values (JSON on stdin), save every process's
                        argv to CLOUDSITE_TEST_DIR/argv, say whom it made; exit 0, or 1
                        with --fail, or 7 with --exit-7
"""

import json
import os
import sys
import time
from pathlib import Path


def lines(chars: int) -> str:
    return "".join(f"{i:05d} {'x' * 93}\n" for i in range(chars // 100))


def argv_of_every_process() -> str:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return "\n".join(found)


args = sys.argv[1:]
if args[0] == "emit":
    sys.stdout.write(lines(int(args[1])))
    sys.stdout.flush()
    sys.stderr.write("emitted\n")
    sys.exit(int(args[2]) if len(args) > 2 else 0)
if args[0] == "sleep":
    sys.stdout.write("working\n")
    sys.stdout.flush()
    time.sleep(float(args[1]))
if args[0] == "createsuperuser":
    values = json.loads(sys.stdin.read() or "{}")
    Path(os.environ["CLOUDSITE_TEST_DIR"], "argv").write_text(argv_of_every_process())
    password = values.get("DJANGO_SUPERUSER_PASSWORD", "")
    who = values.get("DJANGO_SUPERUSER_USERNAME")
    sys.stdout.write(f"Superuser created: {who} ({len(password)} chars)\n")
    sys.exit(1 if "--fail" in args else 7 if "--exit-7" in args else 0)
