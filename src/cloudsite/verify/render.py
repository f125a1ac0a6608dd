"""The checklist for people (one line per check, then a summary) and for machines (JSON)."""

import json

from cloudsite.verify.model import Report, Status

_COLOURS = {Status.PASS: "green", Status.WARN: "yellow", Status.FAIL: "red"}


def render_text(report: Report, *, colour: bool = False) -> str:
    """A title, then `  <status>  <label>  <measured value>` per check, a `hint:` line under
    each warning and failure, any notes, and the summary line last."""
    import click

    width = max(len(c.label) for c in report.checks) + 2
    title = f"verify {report.url}" + (f" (stack {report.stack})" if report.stack else "")
    lines = [title]
    for check in report.checks:
        mark = f"{check.status.value:<5}"
        if colour:
            mark = click.style(mark, fg=_COLOURS[check.status], bold=check.status is Status.FAIL)
        lines.append(f"  {mark} {check.label:<{width}}{check.value}")
        if check.hint and check.status is not Status.PASS:
            lines.append(f"  {'':<5} {'':<{width}}hint: {check.hint}")
    lines += [f"  note: {note}" for note in report.notes]
    lines.append(report.summary())
    return "\n".join(lines)


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2)
