"""Run Command's path, for real, on an instance of `cloudsite local`: moto's server with the
stack `cloudsite up --detach` made, and the SSM agent's stand-in (tests/support/ssm_agent.py)
running the stack's ManageDocument with that instance's own manage.sh (the copy its
ApplicationStart installed), its env file, its container engine and the AWS CLI, so the one-off
parameter is read and the run recorded by the AWS CLI as on EC2. Only the AWS side and the
agent are stand-ins; the script, the image, the container and the database are the real ones.
"""

import os
import random
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from tests.support.moto import aws_env
from tests.support.servers import ROOT

CLOUDSITE = str(ROOT / ".venv" / "bin" / "cloudsite")
AWS_CLI = ROOT / ".venv-awscli" / "bin"
LIB = Path("usr") / "local" / "lib" / "cloudsite"


@dataclass
class RunCommand:
    env: dict[str, str]  # the CLI's: the operator's environment, pointed at moto
    log_group: str  # the stack's ManageLogGroup

    def commands(self) -> list[dict[str, object]]:
        return list(self.client("ssm").list_commands()["Commands"])

    def log_events(self) -> str:
        logs = self.client("logs")
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=self.log_group)
        return "\n".join(e["message"] for page in pages for e in page["events"])

    def parameters(self) -> list[str]:
        ssm = self.client("ssm")
        return [p["Name"] for p in ssm.describe_parameters()["Parameters"]]

    def client(self, service: str) -> Any:
        session = boto3.Session(
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            region_name=self.env["AWS_REGION"],
        )
        return session.client(service, endpoint_url=self.env["AWS_ENDPOINT_URL"])  # type: ignore[call-overload]


@contextmanager
def run_command_on(
    project: Path, instance: Path, *, env: dict[str, str], workdir: Path
) -> Iterator[RunCommand]:
    """`project`'s stack up in moto, its instances' agent running `instance`'s manage.sh."""
    from tests.cli.emulator import emulator
    from tests.support.ssm_agent import Agent

    subprocess.run([str(ROOT / "scripts" / "bootstrap.sh"), "awscli"], check=True)
    with emulator() as endpoint, _own_account() as account:
        cli_env = {**env, **aws_env(endpoint), "CLOUDSITE_POLL_SECONDS": "0.1"}
        up = subprocess.run(
            [CLOUDSITE, "up", "--yes", "--detach"],
            cwd=project,
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert up.returncode == 0, up.stderr[-3000:]
        found = RunCommand(env=cli_env, log_group="")
        cfn = found.client("cloudformation")
        [stack] = cfn.describe_stacks()["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        found.log_group = outputs["ManageLogGroupName"]
        agent_env = {
            **env,
            **aws_env(endpoint),
            "PATH": f"{AWS_CLI}:{env['PATH']}",
            "CLOUDSITE_ENV_FILE": str(instance / "etc" / "cloudsite" / "env"),
            "CLOUDSITE_MANAGE_LOG_GROUP": found.log_group,
        }
        agent = Agent(script=instance / LIB / "manage.sh", env=agent_env, workdir=workdir)
        agent.attach(account_id=account)
        try:
            yield found
        finally:
            agent.wait(timeout=120)


@contextmanager
def _own_account() -> Iterator[str]:
    """An AWS account of its own for the block. moto's servers in one process share their
    backends, and the suite's session-wide one holds other tests' secrets and stacks: a reset
    would clear them, and an earlier test's stack of the same name would be found. moto reads
    MOTO_ACCOUNT_ID on each request, so every call in the block lands in a fresh account."""
    account = f"{random.randrange(10**11, 10**12)}"  # a name, not a secret
    saved = os.environ.get("MOTO_ACCOUNT_ID")
    os.environ["MOTO_ACCOUNT_ID"] = account
    try:
        yield account
    finally:
        if saved is None:
            os.environ.pop("MOTO_ACCOUNT_ID", None)
        else:
            os.environ["MOTO_ACCOUNT_ID"] = saved
