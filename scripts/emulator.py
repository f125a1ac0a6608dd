#!/usr/bin/env python3
"""`make emulator`: the AWS emulator this repository's tests use, for trying `cloudsite up`
with no AWS account. moto's server on loopback, taught what stock moto lacks or gets wrong
for cloudsite's stack (tests/support: resource models it skips, change-set execution, bucket
policies' conditions; docs/emulators.md lists each, with reproductions for moto upstream).

    make emulator                       # serves until Ctrl-C; prints the variables to export
    EMULATOR_PORT=5001 make emulator    # a port of your choice (default: a free one)

Then, in another shell, in your project: paste the printed `export` lines and run
`cloudsite up --yes --detach`, `cloudsite status`, `cloudsite down --yes`. Nothing is built or
deployed (there is no CodeBuild or EC2 behind it): the stack, its resources and the source
upload are what you see.
"""

import contextlib
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    from moto.server import ThreadedMotoServer

    from tests.cli.emulator import teach
    from tests.support.moto import aws_env

    teach()
    port = int(os.environ.get("EMULATOR_PORT", "0"))
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    host, bound = server.get_host_and_port()
    env = aws_env(f"http://{host}:{bound}")
    print("# the AWS emulator answers; in another shell:", flush=True)
    names = ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    for name in (*names, "AWS_REGION"):
        print(f"export {name}={env[name]}", flush=True)
    print("# Ctrl-C stops it (and forgets everything it holds)", file=sys.stderr, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    server.stop()


if __name__ == "__main__":
    main()
