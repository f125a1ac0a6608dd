"""What a verify run produces: one Check per line of the checklist, gathered in a Report."""

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Status(StrEnum):
    PASS = "pass"  # noqa: S105 (a check status, not a password)
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    """One line of the checklist.

    `id` is stable (scripts and tests key on it), `label` is what a person reads, `value` is
    what was measured ("refused", "83 days left"), and `hint` says what to do about a warning
    or a failure (docs/operations.md explains each check at length).
    """

    id: str
    label: str
    status: Status
    value: str
    hint: str = ""


def passed(id: str, label: str, value: str) -> Check:
    return Check(id, label, Status.PASS, value)


def warned(id: str, label: str, value: str, *, hint: str) -> Check:
    return Check(id, label, Status.WARN, value, hint)


def failed(id: str, label: str, value: str, *, hint: str) -> Check:
    return Check(id, label, Status.FAIL, value, hint)


@dataclass(frozen=True)
class Report:
    url: str
    checks: tuple[Check, ...]
    elapsed: float
    stack: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings do not fail a run)."""
        return not self.failed_ids()

    def failed_ids(self) -> set[str]:
        return {c.id for c in self.checks if c.status is Status.FAIL}

    def by_id(self, id: str) -> Check:
        return next(c for c in self.checks if c.id == id)

    def counts(self) -> dict[str, int]:
        counted = Counter(c.status for c in self.checks)
        return {s.value: counted.get(s, 0) for s in Status}

    def summary(self) -> str:
        n = self.counts()
        warnings = "warning" if n["warn"] == 1 else "warnings"
        verdict = "FAILED" if n["fail"] else "OK"
        return (
            f"{verdict}: {n['pass']} passed, {n['warn']} {warnings}, {n['fail']} failed"
            f" in {self.elapsed:.1f} s"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "url": self.url,
            "stack": self.stack,
            "ok": self.ok,
            "counts": self.counts(),
            "elapsed_seconds": round(self.elapsed, 3),
            "checks": [asdict(c) | {"status": c.status.value} for c in self.checks],
            "notes": list(self.notes),
        }


class VerifyError(Exception):
    """verify could not run at all (bad URL, unreachable host, unreadable stack).

    Carries the parts of the one-line error the CLI prints: `error: what: why` and a hint.
    """

    def __init__(self, what: str, why: str, *, hint: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.hint = hint
