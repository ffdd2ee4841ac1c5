"""AWS failures as one plain sentence for the student and one log line for the operator.

botocore raises a dozen exception types and hundreds of error codes; a student needs to
know what to do next, an operator needs the operation and the code. Neither ever gets a
traceback or a credential: messages are built from the error code and the operation
name, never from request parameters. Where AWS's own message helps ("the bucket does not
exist"), it is shown without ARNs or account ids, which would tell one student about the
account and about another student's resources.
"""

from __future__ import annotations

import logging
import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from bot.errors import CourseBotError

log = logging.getLogger("coursebot.aws")

HOW_TO_CONFIGURE = (
    "AWS credentials are not configured here. Run `aws configure` (or set AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), then ask again. To practise for free with "
    "no AWS account, restart me with --sandbox.")
ACCESS_DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException",
                 "InvalidClientTokenId", "ExpiredToken", "ExpiredTokenException", "NotAuthorized")
THROTTLED = ("Throttling", "ThrottlingException", "TooManyRequestsException", "ProvisionedThroughputExceededException",
             "RequestLimitExceeded", "SlowDown")
LIMITS = ("ResourceLimitExceeded", "LimitExceededException", "ServiceQuotaExceededException",
          "TextSizeLimitExceededException", "ImageTooLargeException")
NOT_FOUND = ("ResourceNotFound", "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "NotFoundException",
             "InvalidS3ObjectException")


class AwsProblem(CourseBotError):
    """An AWS call that did not work, said for the student; `code` is for tests and logs."""

    def __init__(self, student_message: str, code: str = "error"):
        super().__init__(student_message)
        self.student_message = student_message
        self.code = code


class DeadlineExceeded(Exception):
    """An AWS call ran out of its total time (all attempts together); see AwsSession."""


_ARN = re.compile(r"\barn:aws[\w-]*:[^\s,;'\"()]*")
_ACCOUNT = re.compile(r"(?<!\d)\d{12}(?!\d)")


def scrubbed(message: str) -> str:
    """AWS's message without ARNs and account ids."""
    return _ACCOUNT.sub("(an account)", _ARN.sub("that resource", message))


def explain(error: Exception, service: str, operation: str, *, sandbox: bool = False) -> AwsProblem:
    """Turns a boto3 exception from `service:operation` into an AwsProblem and logs it."""
    problem = _translate(error, service, operation, sandbox)
    log.warning("%s:%s failed: %s (%s)", service, operation, problem.code, _operator_detail(error))
    return problem


def _translate(error: Exception, service: str, operation: str, sandbox: bool) -> AwsProblem:
    action = f"{service}:{operation}"
    if isinstance(error, (NoCredentialsError, PartialCredentialsError)):
        return AwsProblem(HOW_TO_CONFIGURE, "no-credentials")
    if isinstance(error, ProfileNotFound):
        return AwsProblem("The AWS profile set for me does not exist. Check `aws configure list-profiles` "
                          "and the 'aws: profile' setting.", "no-credentials")
    if isinstance(error, NoRegionError):
        return AwsProblem("No AWS region is set. Run `aws configure set region us-east-1` or set "
                          "'aws: region' in coursebot.yml.", "no-region")
    if isinstance(error, (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, DeadlineExceeded)):
        return AwsProblem(f"I could not reach AWS for {operation}: the network or the endpoint did not "
                          "answer in time. Please try again in a minute.", "unreachable")
    if isinstance(error, ParamValidationError):
        return AwsProblem(f"That request is not something {operation} accepts: "
                          f"{scrubbed(_first_line(error))}.", "invalid")
    if isinstance(error, NotImplementedError):  # moto in-process: an operation it lacks
        return AwsProblem(f"The sandbox cannot show {operation}: the local AWS simulator does not "
                          "implement it. It works against a real AWS account.", "sandbox-unsupported")
    if not isinstance(error, ClientError):
        if isinstance(error, BotoCoreError):
            return AwsProblem(f"AWS could not run {operation}. Please try again.", "error")
        raise error
    code = error.response.get("Error", {}).get("Code", "")
    message = scrubbed(_first_line(error.response.get("Error", {}).get("Message", "")))
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if sandbox and (status == 500 or code in ("500", "NotImplemented")):
        return AwsProblem(f"The sandbox cannot show {operation}: the local AWS simulator does not "
                          "implement it. It works against a real AWS account.", "sandbox-unsupported")
    if code in ACCESS_DENIED:
        return AwsProblem(f"AWS refused this: your credentials lack the permission {action}. Ask your "
                          "instructor or administrator to add it (the README has a ready IAM policy).",
                          "access-denied")
    if code in THROTTLED:
        return AwsProblem(f"AWS is asking us to slow down ({operation} was throttled, even after retrying). "
                          "Please wait a minute and try again.", "throttled")
    if code in LIMITS:
        return AwsProblem(f"That goes over an AWS limit for {operation}: {message or code}. Stop something "
                          "you no longer need, or ask for a higher quota in the Service Quotas console.",
                          "limit-exceeded")
    if code in NOT_FOUND or re.search(r"not ?found|does not exist|could not find", message, re.IGNORECASE):
        return AwsProblem(f"AWS could not find that: {message or code}.", "not-found")
    if code in ("ValidationException", "ValidationError", "InvalidParameterException", "InvalidRequestException",
                "InvalidParameterValue", "InvalidImageFormatException", "UnsupportedLanguageException",
                "InvalidSsmlException", "TextLengthExceededException"):
        return AwsProblem(f"AWS did not accept the request: {message or code}.", "invalid")
    return AwsProblem(f"AWS could not run {operation} ({code or 'unknown error'}). Please try again "
                      "later.", "error")


def _first_line(value: object) -> str:
    text = str(value).strip()
    return text.splitlines()[0].rstrip(".") if text else ""


def _operator_detail(error: Exception) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        meta = error.response.get("ResponseMetadata", {})
        return (f"{details.get('Code')}: {_first_line(details.get('Message', ''))} "
                f"[HTTP {meta.get('HTTPStatusCode')}, request {meta.get('RequestId')}, "
                f"retries {meta.get('RetryAttempts')}]")
    return f"{type(error).__name__}: {_first_line(error)}"
