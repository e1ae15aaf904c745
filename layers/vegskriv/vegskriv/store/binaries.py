"""Binary objects (/rest/v3/binaer) in S3: one object per upload, its media type and file name as
the object's own Content-Type and Content-Disposition, its owner as metadata."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from botocore.exceptions import ClientError

from vegskriv import aws
from vegskriv.settings import get_settings


@dataclass(frozen=True)
class Binary:
    content: bytes
    media_type: str
    disposition: str | None


def _bucket() -> str:
    return get_settings().binary_bucket


def _missing(exc: ClientError) -> bool:
    return exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound")


def put(binary_id: str, content: bytes, media_type: str, disposition: str | None, owner: str) -> None:
    extra = {"ContentDisposition": disposition} if disposition else {}
    aws.client("s3").put_object(Bucket=_bucket(), Key=binary_id, Body=content, ContentType=media_type,
                                Metadata={"eier": owner}, **extra)


def get(binary_id: str) -> Binary | None:
    try:
        found = aws.client("s3").get_object(Bucket=_bucket(), Key=binary_id)
    except ClientError as exc:
        if _missing(exc):
            return None
        raise
    return Binary(found["Body"].read(), found.get("ContentType") or "application/octet-stream",
                  found.get("ContentDisposition"))


def existing(binary_ids: Iterable[str]) -> set[str]:
    """The ids among ``binary_ids`` that name an uploaded object."""
    found = set()
    for binary_id in set(binary_ids):
        try:
            aws.client("s3").head_object(Bucket=_bucket(), Key=binary_id)
        except ClientError as exc:
            if _missing(exc):
                continue
            raise
        found.add(binary_id)
    return found
