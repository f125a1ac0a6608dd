"""What the user sees: data on stdout, progress and messages on stderr.

On a terminal, waits show a live spinner with the elapsed time (rich, imported only then).
Anywhere else the same waits print one plain line when they start and one per event, so logs
and CI output stay readable. Colour appears only on a terminal, and never with NO_COLOR.
"""

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Protocol

from cloudsite.errors import CloudsiteError, ConfirmationNeeded


class Waiting(Protocol):
    """A wait in progress: `status` replaces the one-line status, `event` adds a line above it."""

    def status(self, text: str) -> None: ...

    def event(self, text: str) -> None: ...


@dataclass
class Ui:
    """The CLI's output channels. Tests build one over StringIO streams."""

    out: IO[str] = field(default_factory=lambda: sys.stdout)
    err: IO[str] = field(default_factory=lambda: sys.stderr)
    json_output: bool = False
    interactive: bool | None = None  # None: decide from the streams

    @property
    def live(self) -> bool:
        """Whether stderr is a terminal we may redraw (spinners, colour)."""
        if self.interactive is not None:
            return self.interactive
        return self.err.isatty() and os.environ.get("TERM") != "dumb"

    def _style(self, text: str, colour: str) -> str:
        if not self.live or "NO_COLOR" in os.environ:
            return text
        codes = {"red": "31", "yellow": "33", "green": "32", "dim": "2", "bold": "1"}
        return f"\x1b[{codes[colour]}m{text}\x1b[0m"

    # -- messages (stderr)
    def info(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def done(self, text: str) -> None:
        print(self._style("ok: ", "green") + text, file=self.err, flush=True)

    def warn(self, text: str, *, hint: str = "") -> None:
        print(self._style("warning: ", "yellow") + text, file=self.err, flush=True)
        if hint:
            print(f"hint: {hint}", file=self.err, flush=True)

    def error(self, err: CloudsiteError) -> None:
        print(self._style("error: ", "red") + f"{err.what}: {err.why}", file=self.err)
        for line in err.details:
            print(f"  {line}", file=self.err)
        if err.hint:
            print(f"hint: {err.hint}", file=self.err)
        self.err.flush()

    # -- data (stdout)
    def data(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def emit_json(self, value: Any, *, lines: bool = False) -> None:
        text = json.dumps(value, sort_keys=True, default=str, indent=None if lines else 2)
        print(text, file=self.out, flush=True)

    # -- questions
    def confirm(self, question: str, *, yes: bool) -> bool:
        """Ask on stderr; --yes answers for the user. Without a terminal there is nobody to
        ask, so that is a usage error rather than a silent yes."""
        if yes:
            return True
        if not sys.stdin.isatty():
            raise ConfirmationNeeded(
                "confirmation",
                f"{question} needs an answer, and stdin is not a terminal",
                hint="rerun with --yes to proceed without asking",
            )
        import click

        return click.confirm(question, default=False, err=True)

    # -- waits
    @contextmanager
    def waiting(self, what: str, *, timeout: float) -> Iterator[Waiting]:
        """Show that we wait for `what` (and for how long at most) until the block ends."""
        limit = f"up to {_duration(timeout)}"
        if not self.live:
            self.info(f"... {what} ({limit})")
            yield _PlainWait(self)
            return
        from rich.console import Console

        console = Console(file=self.err, highlight=False)
        started = time.monotonic()
        wait = _LiveWait(console, what=what, limit=limit, started=started)
        with console.status(wait.render()) as status:
            wait.bind(status.update)
            yield wait


def _duration(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.0f} s"


@dataclass
class _PlainWait:
    ui: Ui
    last: str = ""

    def status(self, text: str) -> None:
        if text != self.last:
            self.last = text
            self.ui.info(f"    {text}")

    def event(self, text: str) -> None:
        self.ui.info(f"    {text}")


@dataclass
class _LiveWait:
    console: Any
    what: str
    limit: str
    started: float
    text: str = ""
    update: Callable[[str], None] | None = None

    def bind(self, update: Callable[[str], None]) -> None:
        self.update = update

    def render(self) -> str:
        elapsed = time.monotonic() - self.started
        detail = f" - {self.text}" if self.text else ""
        return f"{self.what} ({elapsed:.0f} s, {self.limit}){detail}"

    def status(self, text: str) -> None:
        self.text = text
        if self.update:
            self.update(self.render())

    def event(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)
        self.status(self.text)
