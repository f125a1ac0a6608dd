"""`cloudsite verify`: prove over the network that a deployed site is secure and healthy.

    verify_site(url, stack_facts=...) -> Report     every check; `up` calls it at its end
    stack_facts(name, cloudformation=...)           what verify reads from a stack
    render_text(report) / render_json(report)       the checklist, for people or machines

Modules: net (sockets, TLS, HTTP), tls, web, observatory (+ csp, cookies, sri, scoring),
aws (the API checks), runner (orders and times the checks), render. docs/operations.md
explains each check and what to do when it fails.
"""

from cloudsite.verify.aws import StackFacts, stack_facts
from cloudsite.verify.model import Check, Report, Status, VerifyError
from cloudsite.verify.render import render_json, render_text
from cloudsite.verify.runner import AwsClients, verify_site

__all__ = [
    "AwsClients",
    "Check",
    "Report",
    "StackFacts",
    "Status",
    "VerifyError",
    "render_json",
    "render_text",
    "stack_facts",
    "verify_site",
]
