"""What a command ends with when it cannot do its work: one line and a documented exit code.

Every command runs inside `explained()` (cli/main.py), so a new command gets this for free:
the expected failures (no region, no credentials, an endpoint that does not answer, access
denied, a stack that is not there, an input file or a request that breaks its contract)
become one line saying what is wrong and what to do, never a traceback. The exit codes are
documented in the README; scripts may rely on them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class ExitCode(IntEnum):
    OK = 0
    # The command ran and what it checked or followed did not end well: a rejected query, a
    # failed run, a run that is not there.
    FAILED = 1
    # The command line or an input file is wrong (argparse uses 2 for its own errors too).
    USAGE = 2
    # AWS cannot be used from here: no region or credentials, no answer, access denied, or
    # the stack is missing or is not a pinpoint-lake stack.
    AWS = 3
    # `runs show` / `query submit --wait`: the run has not ended yet.
    RUNNING = 4
    # A bug: the message says what failed; please report it with the command line.
    INTERNAL = 70
    INTERRUPTED = 130


class CliError(RuntimeError):
    """A failure the user can act on; `str(error)` says what is wrong and what to do."""

    exit_code: ExitCode = ExitCode.USAGE


class UsageError(CliError):
    """A problem with the command line or an input file."""


class StoppedByUserError(CliError):
    exit_code = ExitCode.INTERRUPTED


class AwsError(CliError):
    """AWS cannot be reached, refuses, or lacks what the command needs."""

    exit_code = ExitCode.AWS


_ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedException",
        "AuthorizationError",
    }
)
_BAD_CREDENTIALS = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
    }
)
_CREDENTIALS_HINT = (
    "configure them (`aws configure`, `aws sso login`, or AWS_PROFILE / AWS_ACCESS_KEY_ID)"
)


def contract_message(error: ValidationError, what: str) -> str:
    """A pydantic error as one line naming each bad field and why (never its value)."""
    problems = []
    for problem in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in problem["loc"]) or "request"
        problems.append(f"{where}: {problem['msg']}")
    return f"{what}: " + "; ".join(problems)


def explain(error: BaseException) -> CliError | None:
    """The user's view of an expected failure; None for one that is a bug."""
    if isinstance(error, CliError):
        return error
    for kinds, explanation in _explanations():
        if isinstance(error, kinds):
            return explanation(error)
    return None


Explanation = tuple[tuple[type[BaseException], ...], Callable[[Any], CliError]]


@functools.cache
def _explanations() -> tuple[Explanation, ...]:
    """Most specific first. Imported here: only a command that failed needs them."""
    from botocore import exceptions as aws  # noqa: PLC0415
    from pydantic import ValidationError  # noqa: PLC0415

    from contracts import EventTooLargeError  # noqa: PLC0415

    return (
        (
            (aws.NoRegionError,),
            lambda _: AwsError(
                "no AWS region is configured: give --region, set AWS_REGION, "
                "or set a region in your AWS config (`aws configure`)"
            ),
        ),
        (
            (aws.NoCredentialsError, aws.PartialCredentialsError),
            lambda _: AwsError(f"no usable AWS credentials were found: {_CREDENTIALS_HINT}"),
        ),
        (
            (
                aws.ProfileNotFound,
                aws.CredentialRetrievalError,
                aws.SSOError,
                aws.TokenRetrievalError,
                aws.ConfigParseError,
            ),
            lambda error: AwsError(
                f"your AWS configuration cannot be used ({error}): {_CREDENTIALS_HINT}"
            ),
        ),
        (
            (aws.EndpointConnectionError, aws.ConnectTimeoutError),
            lambda error: AwsError(
                f"AWS does not answer ({error}): check your network, --region, "
                "and AWS_ENDPOINT_URL if you set it"
            ),
        ),
        (
            (aws.ReadTimeoutError, aws.HTTPClientError),
            lambda error: AwsError(f"the connection to AWS failed ({error}): try again"),
        ),
        ((aws.ClientError,), _client_error),
        ((aws.BotoCoreError,), lambda error: AwsError(f"the AWS SDK stopped: {error}")),
        (
            (ValidationError,),
            lambda error: UsageError(contract_message(error, "the request breaks its contract")),
        ),
        ((EventTooLargeError,), lambda error: UsageError(f"{error}: make the request smaller")),
        ((KeyboardInterrupt,), lambda _: StoppedByUserError("interrupted")),
    )


def _client_error(error: BaseException) -> AwsError:
    response = getattr(error, "response", {}) or {}
    code = str(response.get("Error", {}).get("Code", "")) or "error"
    message = str(response.get("Error", {}).get("Message", "")) or "no message"
    operation = getattr(error, "operation_name", "the call")
    if code in _ACCESS_DENIED:
        return AwsError(
            f"AWS denied {operation} ({message}): use an identity allowed to call it "
            "on the stack's resources (--stack, --region, AWS_PROFILE)"
        )
    if code in _BAD_CREDENTIALS:
        return AwsError(
            f"AWS refused your credentials on {operation} ({code}): {_CREDENTIALS_HINT}"
        )
    if code in {"ResourceNotFoundException", "NotFoundException"}:
        return AwsError(
            f"{operation} found nothing ({message}): the stack's resource is gone; "
            "check --stack and --region, or redeploy the stack"
        )
    if code in {"Throttling", "ThrottlingException", "TooManyRequestsException"}:
        return AwsError(f"AWS throttled {operation}: wait a moment and try again")
    return AwsError(f"AWS refused {operation} ({code}: {message})")
