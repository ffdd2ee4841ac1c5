"""The boto3 service layer: clients, retries, error translation, guardrails, input checks.

Only the standard library, PyYAML and boto3 are imported here, so the layer runs inside
a small Lambda bundle; the SageMaker SDK's image lookup is imported when first needed.
"""

from bot.aws.errors import AwsProblem
from bot.aws.guardrails import BillableRequest
from bot.aws.services import AwsServices
from bot.aws.settings import AwsSettings

__all__ = ["AwsProblem", "AwsServices", "AwsSettings", "BillableRequest"]
