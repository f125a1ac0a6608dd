"""Every failure the CLI reports, as one tree. The class decides the exit code.

    CloudsiteError                   what, why, hint, details: printed as `error: what: why`
    ├── UsageError          exit 2   bad input: nothing was changed, no AWS call was made
    │   ├── ConfigError              a configuration key or value is wrong
    │   │   └── ProjectError         the Django project cannot be detected or built as is
    │   ├── CredentialsError         no AWS credentials could be found
    │   └── ConfirmationNeeded       a destructive step needs --yes (stdin is not a terminal)
    └── OperationError      exit 1   an operation against AWS failed
        ├── EndpointError            the AWS endpoint cannot be reached
        ├── AwsCallError             an AWS API call returned an error
        ├── StackError               a stack operation failed: its first failed resource
        │   └── StackBusy            another operation is in progress (and --no-wait)
        ├── PipelineError            a pipeline stage failed: the build log / hook output
        ├── CertificateError         the certificate could not be obtained
        ├── WaitTimeout              a bounded wait ran out
        ├── SmokeCheckFailed         the site did not answer over HTTPS
        ├── TeardownIncomplete       the stack's resources are still there after `down`
        └── Cancelled                the user answered no

The CLI prints these and exits; any other exception is a bug, printed the same way with a hint
to rerun with --debug for the traceback.
"""

from collections.abc import Sequence


class CloudsiteError(Exception):
    """A failure with a one-line explanation (`what: why`), optional detail lines and a hint."""

    exit_code = 1

    def __init__(self, what: str, why: str, *, hint: str = "", details: Sequence[str] = ()) -> None:
        super().__init__(f"{what}: {why}")
        self.what = what
        self.why = why
        self.hint = hint
        self.details = list(details)


class UsageError(CloudsiteError):
    exit_code = 2


class ConfigError(UsageError):
    pass


class ProjectError(ConfigError):
    """The project tree is not a Django project cloudsite can build, or detection is
    ambiguous; `what` names the configuration key that settles it."""


class CredentialsError(UsageError):
    pass


class ConfirmationNeeded(UsageError):
    pass


class OperationError(CloudsiteError):
    exit_code = 1


class EndpointError(OperationError):
    pass


class AwsCallError(OperationError):
    pass


class StackError(OperationError):
    pass


class StackBusy(StackError):
    pass


class PipelineError(OperationError):
    pass


class CertificateError(OperationError):
    pass


class WaitTimeout(OperationError):
    pass


class SmokeCheckFailed(OperationError):
    pass


class VerifyFailed(OperationError):
    """The site is live, but `cloudsite verify` failed one of its checks."""


class TeardownIncomplete(OperationError):
    pass


class Cancelled(OperationError):
    pass
