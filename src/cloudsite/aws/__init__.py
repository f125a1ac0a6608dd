"""The AWS session: profile, region and credentials the standard way, clients on demand.

boto3 honours AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, so the same code runs against
AWS, moto's server or LocalStack. Everything here that can fail without a network call
(profile, region, credentials) is checked before the first request is sent.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloudsite import __version__, validate
from cloudsite.config import Config
from cloudsite.errors import (
    AwsCallError,
    CloudsiteError,
    ConfigError,
    CredentialsError,
    EndpointError,
)


@dataclass
class Aws:
    """A session and the clients made from it (tests put Stubber-wrapped clients in)."""

    session: Any
    region: str
    account: str = ""
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self.clients:
            from botocore.config import Config as BotoConfig

            settings = BotoConfig(
                user_agent_extra=f"cloudsite/{__version__}", connect_timeout=10, read_timeout=60
            )
            self.clients[service] = self.session.client(
                service, region_name=self.region, config=settings
            )
        return self.clients[service]


def session_open(cfg: Config) -> Aws:
    """Profile, region and credentials, all checked locally: no request is sent here."""
    import boto3
    import botocore.exceptions

    try:
        session = boto3.Session(profile_name=cfg.profile or None, region_name=cfg.region or None)
    except botocore.exceptions.ProfileNotFound:
        raise ConfigError(
            "profile",
            f"{cfg.profile!r} is not a profile in your AWS configuration",
            hint="list them with `aws configure list-profiles`",
        ) from None
    region = session.region_name or ""
    validate.check_region(cfg, region)
    try:
        credentials = session.get_credentials()
    except botocore.exceptions.BotoCoreError as err:
        raise CredentialsError("credentials", str(err), hint=_CREDENTIALS_HINT) from None
    if credentials is None:
        raise CredentialsError(
            "credentials", "no AWS credentials were found", hint=_CREDENTIALS_HINT
        )
    return Aws(session=session, region=region)


_CREDENTIALS_HINT = (
    "set AWS_PROFILE (after `aws configure` or `aws sso login`), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY"
)


def identity(aws: Aws) -> dict[str, str]:
    """Who we are (account and ARN), from STS: the first AWS call every command makes."""
    with calling("identity"):
        found = aws.client("sts").get_caller_identity()
    aws.account = found["Account"]
    return {"account": found["Account"], "arn": found["Arn"], "region": aws.region}


def error_code(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def error_message(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Message", "")) or str(err)


@contextmanager
def calling(what: str) -> Iterator[None]:
    """Turn botocore's exceptions into CloudsiteErrors that say what we were doing."""
    import botocore.exceptions as bx

    try:
        yield
    except CloudsiteError:
        raise
    except (bx.EndpointConnectionError, bx.ConnectTimeoutError, bx.ReadTimeoutError) as err:
        endpoint = getattr(err, "kwargs", {}).get("endpoint_url", "")
        raise EndpointError(
            what,
            f"cannot reach the AWS endpoint {endpoint}".rstrip() + f" ({type(err).__name__})",
            hint="check your network, and AWS_ENDPOINT_URL if you set it",
        ) from None
    except bx.NoCredentialsError:
        raise CredentialsError(
            what, "no AWS credentials were found", hint=_CREDENTIALS_HINT
        ) from None
    except bx.ClientError as err:
        raise aws_error(what, err) from None


def aws_error(what: str, err: Exception) -> AwsCallError:
    """An AwsCallError for a ClientError, with a hint for the codes people meet most."""
    code = error_code(err)
    operation = getattr(err, "operation_name", "") or "call"
    hint = {
        "AccessDenied": "your identity lacks a permission; see docs/operations.md#permissions",
        "AccessDeniedException": "your identity lacks a permission; see docs/operations.md",
        "UnauthorizedOperation": "your identity lacks a permission; see docs/operations.md",
        "ExpiredToken": "your session expired: log in again (aws sso login)",
        "ExpiredTokenException": "your session expired: log in again (aws sso login)",
        "InvalidClientTokenId": "the access key is not valid for this account or partition",
        "SignatureDoesNotMatch": "the secret key does not match the access key",
        "Throttling": "AWS is throttling requests; wait a minute and rerun",
    }.get(code, "rerun with --debug for the full AWS response")
    return AwsCallError(what, f"{operation} failed: {code}: {error_message(err)}", hint=hint)
