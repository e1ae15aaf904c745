"""Two-step uploads (``POST /rest/v3/endringssett/opplasting``) in S3. Under each upload id: a ticket
(owner and deadlines), the document the client posts with the presigned POST, and a mark of the
changeset it was registered as. The bucket's lifecycle rule deletes all three after a day.

The client posts straight to S3: a presigned PUT signs no upper bound on an unknown size, a
presigned POST policy does (``content-length-range``), so the URL is a POST form.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.settings import get_settings


@dataclass(frozen=True)
class Ticket:
    upload_id: str
    owner: str
    url_expires: float  # epoch seconds: S3 refuses the POST after this
    register_by: float  # epoch seconds: the upload answers 404 after this


@dataclass(frozen=True)
class Form:
    url: str
    fields: dict[str, str]


def _bucket() -> str:
    return get_settings().upload_bucket


def _missing(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")


@cache
def _presigner(endpoint: str) -> Any:
    # Path-style, so that the local moto server (OPPLASTING_S3_URL) is named by host:port alone.
    config = Config(signature_version="s3v4", s3={"addressing_style": "path" if endpoint else "auto"})
    return boto3.client("s3", endpoint_url=endpoint or None, config=config)  # type: ignore[call-overload]


def issue(upload_id: str, owner: str) -> tuple[Ticket, Form]:
    settings = get_settings()
    now = time.time()
    ticket = Ticket(upload_id, owner, now + settings.upload_url_seconds, now + settings.upload_keep_seconds)
    aws.client("s3").put_object(Bucket=_bucket(), Key=f"{upload_id}/billett", ContentType="application/json",
                                Body=json.dumps({"eier": owner, "urlUtløper": ticket.url_expires,
                                                 "registreresInnen": ticket.register_by}).encode())
    key = f"{upload_id}/dokument"
    post = _presigner(settings.upload_endpoint_url).generate_presigned_post(
        _bucket(), key, Conditions=[["content-length-range", 1, settings.upload_max_bytes]],
        ExpiresIn=settings.upload_url_seconds)
    return ticket, Form(post["url"], post["fields"])


def ticket(upload_id: str) -> Ticket | None:
    try:
        found = json.loads(aws.client("s3").get_object(Bucket=_bucket(), Key=f"{upload_id}/billett")["Body"].read())
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return Ticket(upload_id, found["eier"], found["urlUtløper"], found["registreresInnen"])


def document(upload_id: str, max_bytes: int) -> bytes | None:
    """The uploaded bytes (None if not uploaded); ValueError with the size if over ``max_bytes``."""
    try:
        found = aws.client("s3").get_object(Bucket=_bucket(), Key=f"{upload_id}/dokument")
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    if found["ContentLength"] > max_bytes:  # S3 enforces the policy on AWS; this also holds locally
        found["Body"].close()
        raise ValueError(found["ContentLength"])
    return bytes(found["Body"].read())


def claim(upload_id: str) -> bool:
    """Take the upload for one registration (False if another took it first): S3's conditional write."""
    try:
        aws.client("s3").put_object(Bucket=_bucket(), Key=f"{upload_id}/registrert", Body=b"{}", IfNoneMatch="*")
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
            return False
        raise
    return True


def registered(upload_id: str) -> str | None:
    """The changeset the upload became; "" while a registration holds it, None if none does."""
    try:
        body = aws.client("s3").get_object(Bucket=_bucket(), Key=f"{upload_id}/registrert")["Body"].read()
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return str(json.loads(body).get("endringssettId", ""))


def record(upload_id: str, changeset_id: str) -> None:
    aws.client("s3").put_object(Bucket=_bucket(), Key=f"{upload_id}/registrert",
                                Body=json.dumps({"endringssettId": changeset_id}).encode())


def release(upload_id: str) -> None:
    """A registration that failed gives the upload back, so that it may be tried again."""
    aws.client("s3").delete_object(Bucket=_bucket(), Key=f"{upload_id}/registrert")
