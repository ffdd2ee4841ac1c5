"""Input checks before any call: names, S3 URIs, role ARNs, image files, text lengths.

Patterns and length limits are read from botocore's copy of each API's model, the same
one boto3 sends requests against, so a check here fails exactly when AWS would.
Each check returns the cleaned value or raises AwsProblem with the reason.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.aws.errors import AwsProblem

# Limits the API models do not state: Comprehend's documented request sizes (UTF-8 bytes),
# Polly's characters per request, Rekognition's image sizes.
COMPREHEND_MAX_BYTES = {"DetectSentiment": 5_000, "DetectEntities": 100_000, "DetectKeyPhrases": 100_000,
                        "DetectDominantLanguage": 100_000, "DetectPiiEntities": 100_000}
POLLY_MAX_CHARACTERS = 3_000
IMAGE_BYTES_MAX = 5 * 1024 * 1024
S3_IMAGE_BYTES_MAX = 15 * 1024 * 1024
IMAGE_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<key>.*))?$")


@functools.lru_cache(maxsize=None)
def _member(service: str, operation: str, path: str) -> Any:
    import botocore.session

    shape = botocore.session.get_session().get_service_model(service).operation_model(operation).input_shape
    for part in path.split("."):
        shape = shape.member if part == "[]" else shape.members[part]
    return shape


def model_pattern(service: str, operation: str, path: str) -> tuple[re.Pattern[str] | None, int | None, int | None]:
    """The (pattern, min length, max length) the API model gives for one request member."""
    metadata = _member(service, operation, path).metadata
    pattern = metadata.get("pattern")
    return (re.compile(pattern) if pattern else None, metadata.get("min"), metadata.get("max"))


def check_model_value(value: str, service: str, operation: str, path: str, what: str, rule: str) -> str:
    """Checks `value` against the model's pattern and lengths for `operation`'s `path`."""
    value = value.strip()
    pattern, low, high = model_pattern(service, operation, path)
    if high is not None and len(value) > high:
        raise AwsProblem(f"That {what} has {len(value)} characters; AWS allows at most {high}.", "invalid")
    if (low and len(value) < low) or not value or (pattern and not pattern.fullmatch(value)):
        raise AwsProblem(f"\"{value}\" is not a valid {what}: {rule}.", "invalid")
    return value


def sagemaker_name(value: str, what: str = "name") -> str:
    """Notebook instance and training job names share SageMaker's pattern."""
    return check_model_value(value, "sagemaker", "CreateNotebookInstance", "NotebookInstanceName", what,
                             "use letters, digits and hyphens, up to 63 characters, not starting or "
                             "ending with a hyphen")


def role_arn(value: str) -> str:
    return check_model_value(value, "sagemaker", "CreateNotebookInstance", "RoleArn", "IAM role ARN",
                             "it looks like arn:aws:iam::123456789012:role/MySageMakerRole")


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def s3_uri(value: str) -> S3Location:
    """An S3 URI with a valid bucket name (3 to 63 lowercase letters, digits, dots, hyphens)."""
    text = value.strip().rstrip(".,;").strip("\"'`").rstrip(".,;")
    match = S3_URI.fullmatch(text)
    if not match or ".." in match["bucket"] or re.fullmatch(r"\d+\.\d+\.\d+\.\d+", match["bucket"]):
        raise AwsProblem(f"\"{text}\" is not an S3 URI: it should look like s3://my-bucket/path/to/data.",
                         "invalid")
    return S3Location(match["bucket"], match["key"] or "")


def comprehend_text(text: str, operation: str) -> str:
    text = text.strip()
    if not text:
        raise AwsProblem("There is no text to analyse: put it in quotes, like 'this course is great'.", "invalid")
    limit = COMPREHEND_MAX_BYTES[operation]
    size = len(text.encode("utf-8"))
    if size > limit:
        raise AwsProblem(f"That text is {size:,} bytes; Comprehend's {operation} takes at most {limit:,}. "
                         "Try a shorter piece.", "invalid")
    return text


def speech_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise AwsProblem("There is nothing to say: put the words in quotes, like 'hello class'.", "invalid")
    if len(text) > POLLY_MAX_CHARACTERS:
        raise AwsProblem(f"That text has {len(text):,} characters; Polly speaks at most "
                         f"{POLLY_MAX_CHARACTERS:,} per request.", "invalid")
    return text


def image_file(value: str, allowed_folders: tuple[Path, ...]) -> bytes:
    """The bytes of a local JPEG or PNG image inside one of the allowed folders.

    Raises:
        AwsProblem: the path escapes the folders, is missing or unreadable, is too big,
            or is not a JPEG or PNG file.
    """
    raw = Path(value.strip().strip("\"'`")).expanduser()
    roots = [folder.expanduser().resolve() for folder in allowed_folders]
    path = (raw if raw.is_absolute() else roots[0] / raw).resolve()
    inside = any(path == root or path.is_relative_to(root) for root in roots)
    if not inside or not path.is_file():
        # One answer for both: which files exist outside the folders is nobody's business.
        names = " or ".join(f"'{root.name}'" for root in roots)
        raise AwsProblem(f"There is no image I may read at {value.strip()}: put it in the image folder "
                         f"{names} and give its name (or use an s3:// object).", "not-found")
    size = path.stat().st_size
    if size > IMAGE_BYTES_MAX:
        raise AwsProblem(f"That image is {size / 1024 / 1024:.1f} MB; Rekognition takes at most 5 MB "
                         "from a file (15 MB from S3).", "invalid")
    try:
        data = path.read_bytes()
    except OSError:
        raise AwsProblem(f"I cannot read {value.strip()}: check its permissions.", "invalid") from None
    if not any(data.startswith(magic) for magic in IMAGE_MAGIC):
        raise AwsProblem(f"{value.strip()} is not a JPEG or PNG image (Rekognition reads only those).",
                         "invalid")
    return data


