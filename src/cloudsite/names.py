"""Every AWS name the CLI makes is built here, next to the limit it must respect.

The template names its own resources from the stack name; these are the names the CLI makes
itself (the stack, change sets, the template bucket, certificate tags, request tokens).
"""

import re
from datetime import datetime
from typing import Final

# The site name is the stack name. Its own limit (24) is far below CloudFormation's 128 so that
# names derived from it fit theirs: the template bucket below (63), and load balancer and target
# group names (32) that CloudFormation makes from the stack name plus a suffix.
NAME_MAX: Final = 24
NAME_PATTERN: Final = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
CHANGE_SET_NAME_MAX: Final = 128  # CloudFormation: a letter, then letters, digits and hyphens
BUCKET_NAME_MAX: Final = 63  # S3
TOKEN_MAX: Final = 128  # ClientRequestToken (CloudFormation), clientRequestToken (CodePipeline)
COMMON_NAME_MAX: Final = 64  # X.509 upper bound for a CommonName


def _checked(value: str, *, limit: int, what: str) -> str:
    if len(value) > limit:
        raise ValueError(f"{what} {value!r} is longer than {limit} characters")
    return value


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a site name, or None when it can."""
    if not name:
        return "is empty"
    if len(name) > NAME_MAX:
        return f"is {len(name)} characters long; the limit is {NAME_MAX}"
    if not NAME_PATTERN.match(name):
        return "must start with a lowercase letter and hold only a-z, 0-9 and '-'"
    if "--" in name:
        return "must not contain '--'"
    return None


def stack_name(name: str) -> str:
    """The CloudFormation stack for site `name`: the name itself, which validation keeps to
    NAME_MAX characters, well within CloudFormation's 128."""
    return name


def change_set_name(verb: str, *, now: datetime) -> str:
    """A change set name unique to this run, e.g. `cloudsite-up-20260101T120000`."""
    value = f"cloudsite-{verb}-{now:%Y%m%dT%H%M%S}"
    return _checked(value, limit=CHANGE_SET_NAME_MAX, what="change set name")


def template_bucket(stack: str, *, account: str, region: str) -> str:
    """The bucket that holds a template too large to send inline (63 characters at most)."""
    value = f"{stack}-cfn-{account}-{region}".lower()
    return _checked(value, limit=BUCKET_NAME_MAX, what="bucket name")


def template_key(digest: str) -> str:
    """The template's key in its bucket: content-addressed, so a rerun reuses it."""
    return f"templates/{digest[:32]}.json"


def request_token(verb: str, stack: str, *, now: datetime) -> str:
    """An idempotency token for one stack operation (128 characters at most)."""
    value = f"cloudsite-{verb}-{stack}-{now:%Y%m%dT%H%M%S}"
    return _checked(value, limit=TOKEN_MAX, what="request token")


def self_signed_common_name(stack: str) -> str:
    """The CommonName of the self-signed certificate (64 characters at most)."""
    return _checked(f"{stack}.cloudsite.invalid", limit=COMMON_NAME_MAX, what="common name")


def certificate_kind_tag() -> str:
    """The tag key that says how cloudsite obtained a certificate (imported or requested)."""
    return "cloudsite:certificate"
