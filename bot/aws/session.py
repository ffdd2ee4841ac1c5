"""The one place that owns boto3: a session, its clients, and how every call is made.

The session comes from the usual AWS configuration (profile, environment, region),
optionally pointed at another endpoint (a local moto server or LocalStack). Clients
retry throttling in botocore's standard or adaptive mode and give up after the
configured timeouts. `call` is the only way services reach AWS, so every error is
translated in one place.

Every call also has a total deadline (`call_deadline`, all attempts together): a retry
starts only if it could finish in time (a read may take `read_timeout`), so a hanging
endpoint costs a turn at most the deadline, never attempts x timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from botocore import xform_name

from bot.aws.errors import HOW_TO_CONFIGURE, AwsProblem, DeadlineExceeded, explain
from bot.aws.settings import AwsSettings

log = logging.getLogger("coursebot.aws")

DEFAULT_REGION = "us-east-1"


class AwsSession:
    """Lazily created boto3 clients that share one session and one configuration."""

    def __init__(self, settings: AwsSettings, credentials: dict[str, str] | None = None):
        self.settings = settings
        self._credentials = credentials or {}
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._started = threading.local()  # when this thread's current call began

    @property
    def region(self) -> str:
        return self._boto_session().region_name or DEFAULT_REGION

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make_client(service)
            return self._clients[service]

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        """Calls `service.operation(**params)`; every failure becomes an AwsProblem.

        `operation` is the API's name (CreateNotebookInstance), as in IAM policies.
        """
        client = self.client(service)
        method = getattr(client, xform_name(operation))
        self._started.at = time.monotonic()
        try:
            return method(**params)
        except AwsProblem:
            raise
        except Exception as error:  # botocore's exceptions, translated for the student
            raise explain(error, _iam_prefix(client), operation, sandbox=self.settings.sandbox) from None

    def require_credentials(self) -> None:
        """Raises AwsProblem before any call when no credentials can be found."""
        try:
            credentials = self._boto_session().get_credentials()
        except Exception as error:
            raise explain(error, "sts", "GetCallerIdentity") from None
        if credentials is None:
            raise AwsProblem(HOW_TO_CONFIGURE, "no-credentials")

    def _boto_session(self) -> Any:
        if self._session is None:
            try:
                if self._credentials:
                    self._session = isolated_session(self.settings.region or DEFAULT_REGION, self._credentials)
                else:
                    import boto3  # Imported on first use: answering course questions never needs it.

                    self._session = boto3.session.Session(profile_name=self.settings.profile,
                                                          region_name=self.settings.region)
            except Exception as error:  # e.g. AWS_PROFILE names a profile that does not exist
                raise explain(error, "sts", "GetCallerIdentity", sandbox=self.settings.sandbox) from None
        return self._session

    def _make_client(self, service: str) -> Any:
        from botocore.config import Config

        # total_max_attempts counts the first request too (botocore's max_attempts counts only retries).
        config = Config(retries={"mode": self.settings.retry_mode, "total_max_attempts": self.settings.max_attempts},
                        connect_timeout=min(self.settings.connect_timeout, self.settings.call_deadline),
                        read_timeout=min(self.settings.read_timeout, self.settings.call_deadline),
                        user_agent_extra="coursebot")
        try:
            client = self._boto_session().client(service, region_name=self.region, config=config,
                                                 endpoint_url=self.settings.endpoint_url)
        except Exception as error:
            raise explain(error, service, "connect", sandbox=self.settings.sandbox) from None
        client.meta.events.register("before-send", self._within_deadline)
        return client

    def _within_deadline(self, **_: Any) -> None:
        """Refuses to send an attempt that could not end before the call's deadline."""
        started = getattr(self._started, "at", None)
        if started is None:
            return
        elapsed = time.monotonic() - started
        if elapsed > 0.05 and elapsed + self.settings.read_timeout > self.settings.call_deadline:
            raise DeadlineExceeded(f"{elapsed:.1f} s spent; another attempt could end after the "
                                   f"{self.settings.call_deadline:g} s deadline")


def _iam_prefix(client: Any) -> str:
    """The service's prefix in IAM actions (sagemaker, comprehend, polly, rekognition)."""
    return client.meta.service_model.signing_name


def isolated_session(region: str, credentials: dict[str, str]) -> Any:
    """A boto3 session with exactly these credentials that never reads the user's AWS
    profile (a sandbox must work even when AWS_PROFILE names a missing one)."""
    import boto3
    import botocore.session

    core = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return boto3.session.Session(botocore_session=core, region_name=region, **credentials)
