"""A stand-in for the SSM agent on the stack's instances, against moto (moto_ssm_overrides).

It runs what the real agent runs, for real, on this machine:
- a sent command: the document's aws:runShellScript step (its runCommand lines, as moto's
  GetDocument returns them), each parameter as the variable SSM_<name> (what the agent does
  for `interpolationType: ENV_VAR`), `{{ name }}` replaced in the step's inputs, bounded by
  its timeoutSeconds; stdout and stderr go to the CloudWatch Logs group of the command's
  CloudWatchOutputConfig as they come, in the agent's streams
  <command id>/<instance id>/<step name>/stdout and /stderr, one event a line; then the
  invocation ends Success or Failed with the script's status (StandardOutputContent cut at
  24,000 characters, as GetCommandInvocation's is), or Cancelled, or TimedOut;
- a session: the Session document's linux commands, with `{{ name }}` pasted in (Session
  documents have no ENV_VAR interpolation), its output in a file (the terminal); a file
  <sessions>/<session id>.done appears when it ends, for a fake plugin to wait on.
In both, /usr/local/lib/cloudsite/manage.sh is `script`, the test's instance script, and the
instance's environment is `env` plus CLOUDSITE_INSTANCE_ID.
"""

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import boto3

from tests.support import moto_ssm_overrides

MANAGE_SH = "/usr/local/lib/cloudsite/manage.sh"
OUTPUT_LIMIT = 24_000  # characters of stdout GetCommandInvocation returns


@dataclass
class Agent:
    script: Path
    env: Mapping[str, str]
    workdir: Path
    processes: dict[tuple[str, str], subprocess.Popen[bytes]] = field(default_factory=dict)
    cancelled: set[tuple[str, str]] = field(default_factory=set)
    threads: list[threading.Thread] = field(default_factory=list)

    @property
    def sessions(self) -> Path:
        return self.workdir / "sessions"

    def attach(self, *, account_id: str = "123456789012") -> "Agent":
        moto_ssm_overrides.attach(self, account_id=account_id)
        return self

    # ------------------------------------------------------------------ Run Command
    def dispatch(self, command: Any, document: dict[str, Any]) -> None:
        for invocation in command.invocations:
            self._start(command, invocation, document)

    def _start(self, command: Any, invocation: dict[str, Any], document: dict[str, Any]) -> None:
        def work() -> None:
            try:
                self._run(command, invocation, document)
            except Exception as err:  # a bug here must show as a failed invocation
                invocation.update(Status="Failed", StatusDetails=f"agent: {err}", ResponseCode=-1)

        thread = threading.Thread(target=work, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _run(self, command: Any, invocation: dict[str, Any], document: dict[str, Any]) -> None:
        instance = invocation["InstanceId"]
        key = (command.command_id, instance)
        [step] = document["mainSteps"]
        values = _values(document, command.parameters)
        inputs = {k: _pasted(v, values) for k, v in step["inputs"].items()}
        folder = self.workdir / command.command_id / instance
        folder.mkdir(parents=True)
        text = "\n".join(inputs["runCommand"]).replace(MANAGE_SH, str(self.script))
        (folder / "_script.sh").write_text(text + "\n")
        env = {**self.env, "CLOUDSITE_INSTANCE_ID": instance}
        for name, spec in document.get("parameters", {}).items():
            if spec.get("interpolationType") == "ENV_VAR":
                env[f"SSM_{name}"] = values[name]
        process = subprocess.Popen(
            ["/bin/sh", str(folder / "_script.sh")],
            cwd=folder,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: cancel stops all of it
        )
        self.processes[key] = process
        group = command.cloudwatch_output_config.get("CloudWatchLogGroupName", "")
        prefix = f"{command.command_id}/{instance}/{step['name']}"
        assert process.stdout is not None and process.stderr is not None
        readers = [
            _Uploader(group, f"{prefix}/stdout", process.stdout, self.env),
            _Uploader(group, f"{prefix}/stderr", process.stderr, self.env),
        ]
        for reader in readers:
            reader.start()
        try:
            code = process.wait(timeout=float(inputs.get("timeoutSeconds", 3600)))
            timed_out = False
        except subprocess.TimeoutExpired:
            _stop(process)
            code, timed_out = process.wait(), True
        for reader in readers:
            reader.join()
        if key in self.cancelled:
            status, details, code = "Cancelled", "Cancelled", -1
        elif timed_out:
            status, details, code = "TimedOut", "ExecutionTimedOut", -1
        else:
            status = details = "Success" if code == 0 else "Failed"
        invocation.update(
            Status=status,
            StatusDetails=details,
            ResponseCode=code,
            StandardOutputContent=readers[0].text[:OUTPUT_LIMIT],
            StandardErrorContent=readers[1].text[:8000],
        )

    def cancel(self, command: Any, instance_ids: list[str]) -> None:
        for instance in instance_ids:
            key = (command.command_id, instance)
            process = self.processes.get(key)
            if process is not None and process.poll() is None:
                self.cancelled.add(key)
                _stop(process)

    # ------------------------------------------------------------------ Session Manager
    def session(self, session_id: str, request: dict[str, Any], document: dict[str, Any]) -> None:
        values = _values(document, request.get("Parameters") or {})
        commands = _pasted(document["properties"]["linux"]["commands"], values)
        commands = commands.replace(MANAGE_SH, str(self.script))
        env = {**self.env, "CLOUDSITE_INSTANCE_ID": request["Target"]}
        self.sessions.mkdir(parents=True, exist_ok=True)
        terminal = self.sessions / f"{session_id}.terminal"

        def work() -> None:
            with terminal.open("wb") as sink:
                process = subprocess.Popen(
                    ["/bin/sh", "-c", commands], env=env, stdout=sink, stderr=sink
                )
                self.processes[(session_id, request["Target"])] = process
                process.wait()
            (self.sessions / f"{session_id}.done").write_text(str(process.returncode))

        thread = threading.Thread(target=work, daemon=True)
        self.threads.append(thread)
        thread.start()

    def terminate(self, session_id: str) -> None:
        for (key, _), process in list(self.processes.items()):
            if key == session_id and process.poll() is None:
                _stop(process)

    def wait(self, timeout: float = 30) -> None:
        for thread in self.threads:
            thread.join(timeout)


def _values(document: dict[str, Any], given: Mapping[str, list[str]]) -> dict[str, str]:
    """Each declared parameter's value: the one sent, else the document's default."""
    values = {}
    for name, spec in document.get("parameters", {}).items():
        sent = given.get(name)
        values[name] = sent[0] if sent else str(spec.get("default", ""))
    return values


def _pasted(value: Any, values: Mapping[str, str]) -> Any:
    """`{{ name }}` replaced by the value, as the agent pastes parameters into the text."""
    if isinstance(value, list):
        return [_pasted(v, values) for v in value]
    if not isinstance(value, str):
        return value
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m[1]], value)


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended in between
        os.killpg(process.pid, signal.SIGTERM)


class _Uploader(threading.Thread):
    """Read one pipe line by line and put the lines into a log stream as they come (a batch
    at most every 0.1 s), without their newlines, in order."""

    def __init__(self, group: str, stream: str, pipe: IO[bytes], env: Mapping[str, str]) -> None:
        super().__init__(daemon=True)
        self.group, self.stream, self.pipe = group, stream, pipe
        self.logs = boto3.client(
            "logs",
            endpoint_url=env["AWS_ENDPOINT_URL"],
            region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.text = ""
        self.created = False

    def run(self) -> None:
        reader = threading.Thread(target=self._read, daemon=True)
        reader.start()
        batch: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                line = ""
            if line:
                batch.append(line)
            if batch and (line == "" or line is None or len(batch) >= 1000):
                self._put(batch)
                batch = []
            if line is None:
                return

    def _read(self) -> None:
        for raw in iter(self.pipe.readline, b""):
            text = raw.decode(errors="replace")
            self.text += text
            self.lines.put(text)
        self.lines.put(None)

    def _put(self, batch: list[str]) -> None:
        if not self.created:
            self.logs.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
            self.created = True
        now = int(time.time() * 1000)
        self.logs.put_log_events(
            logGroupName=self.group,
            logStreamName=self.stream,
            logEvents=[{"timestamp": now, "message": line.rstrip("\n") or " "} for line in batch],
        )
