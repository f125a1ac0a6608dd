"""verify_site: every check against one site, run concurrently under one time budget."""

import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cloudsite.verify import aws, tls, web
from cloudsite.verify.model import Check, Report, VerifyError, failed, passed
from cloudsite.verify.net import Site, connect, parse_url, resolve

DEFAULT_TIMEOUT = 4.0  # seconds per network operation; checks run side by side


@dataclass(frozen=True)
class AwsClients:
    """boto3 clients for the API checks (built from the environment when not given), and for
    reading the stack (`cloudsite verify` only: `up` already knows its stack)."""

    ec2: Any
    elbv2: Any
    cloudformation: Any = None

    @classmethod
    def from_environment(cls, *, timeout: float, region: str | None = None) -> "AwsClients":
        """Every client in one region: `region` (the configured one), else the standard chain
        (AWS_REGION, the profile). Raises botocore's NoRegionError when there is none."""
        import boto3
        from botocore.config import Config

        config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2})
        return cls(
            ec2=boto3.client("ec2", config=config, region_name=region),
            elbv2=boto3.client("elbv2", config=config, region_name=region),
            cloudformation=boto3.client("cloudformation", config=config, region_name=region),
        )


def verify_site(
    url: str | None = None,
    *,
    stack_facts: aws.StackFacts | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    http_port: int = 80,
    resolve_overrides: Mapping[str, str] | None = None,
    ca_file: Path | None = None,
    aws_clients: AwsClients | None = None,
) -> Report:
    """Check a deployed site over the network (and, given stack facts, through the AWS API).

    1. Take the URL (or the stack's SiteUrl) and resolve its host: the DNS check.
    2. Connect once to the HTTPS port; if nothing answers, raise VerifyError (one line).
    3. Run the TLS, HTTP and AWS checks side by side; each has its own timeouts.
    4. Return the checks in a fixed order, whatever order they finished in.
    """
    started = time.monotonic()
    url = url or (stack_facts.site_url if stack_facts else None)
    if not url:
        raise VerifyError(
            "verify",
            "no URL, and the stack has no SiteUrl output",
            hint="give the site's URL: cloudsite verify https://www.example.com/",
        )
    host, https_port = parse_url(url)
    overrides = {k.lower(): v for k, v in (resolve_overrides or {}).items()}
    addresses = resolve(host, overrides=overrides)
    site = Site(host, https_port, http_port, addresses, timeout)
    _preflight(site, url=url)
    tasks = _network_tasks(site, ca_file=ca_file)
    if stack_facts:
        clients = aws_clients or AwsClients.from_environment(timeout=timeout)
        tasks += _aws_tasks(stack_facts, clients)
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        results = list(pool.map(lambda task: task(), tasks))
    checks = [dns_check(site, facts=stack_facts, overrides=overrides)]
    checks += [check for group in results for check in group]
    notes: tuple[str, ...] = ()
    if not stack_facts:
        loopback = site.host in ("localhost", "127.0.0.1", "::1")
        notes = (
            ("AWS checks (targets, firewalls, listener policy): not applicable locally",)
            if loopback
            else ("AWS checks skipped: no stack (use --stack or CLOUDSITE_NAME)",)
        )
    return Report(
        url=url,
        checks=tuple(checks),
        elapsed=time.monotonic() - started,
        stack=stack_facts.name if stack_facts else None,
        notes=notes,
    )


def _preflight(site: Site, *, url: str) -> None:
    try:
        connect(site, site.https_port).close()
    except ConnectionError as exc:
        raise VerifyError(
            url,
            str(exc),
            hint="check that the load balancer is up and that its security group lets your "
            "address in (allowed_cidrs)",
        ) from None


Task = Callable[[], list[Check]]


def _network_tasks(site: Site, *, ca_file: Path | None) -> list[Task]:
    def probe(check_id: str, label: str, version: Any, wanted: bool) -> Task:
        return lambda: [
            tls.version_check(site, check_id=check_id, label=label, version=version, wanted=wanted)
        ]

    return [
        *(probe(*v) for v in tls.VERSIONS),
        lambda: tls.certificate_checks(site, ca_file=ca_file),
        lambda: [web.redirect_check(site)],
        lambda: [web.health_check(site, path="/healthz")],
        lambda: [web.health_check(site, path="/readyz")],
        lambda: web.page_checks(site),
    ]


def _aws_tasks(facts: aws.StackFacts, clients: AwsClients) -> list[Task]:
    def guarded(check_id: str, label: str, run: Callable[[], Check]) -> Task:
        def task() -> list[Check]:
            from botocore.exceptions import BotoCoreError, ClientError

            try:
                return [run()]
            except (BotoCoreError, ClientError) as exc:
                return [
                    failed(
                        check_id,
                        label,
                        f"AWS API error: {exc}",
                        hint="the credentials need ec2:Describe* and "
                        "elasticloadbalancing:Describe*",
                    )
                ]

        return task

    return [
        guarded(check_id, label, partial(run, facts, ec2=clients.ec2, elbv2=clients.elbv2))
        for check_id, label, run in aws.CHECKS
    ]


def dns_check(site: Site, *, facts: aws.StackFacts | None, overrides: Mapping[str, str]) -> Check:
    """The host resolved (or verify would have stopped); with a domain in front of the load
    balancer, every address of the domain must be one of the load balancer's."""
    value = f"{site.host} -> {', '.join(site.addresses)}"
    balancer = facts.load_balancer_dns if facts else None
    if not balancer or balancer.lower() == site.host.lower():
        return passed("dns", "DNS", value)
    hint = f"point the domain at the load balancer: an alias A/AAAA record to {balancer}"
    try:
        theirs = resolve(balancer, overrides=overrides)
    except VerifyError as exc:
        return failed("dns", "DNS", f"{value}; the load balancer {exc.why}", hint=hint)
    elsewhere = [a for a in site.addresses if a not in theirs]
    if elsewhere:
        return failed(
            "dns",
            "DNS",
            f"{value}, not the load balancer ({balancer} -> {', '.join(theirs)})",
            hint=hint,
        )
    return passed("dns", "DNS", f"{value} (the load balancer)")
