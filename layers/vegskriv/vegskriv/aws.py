"""boto3 clients and tables, created once per process (Lambda reuses them across invocations)."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb() -> Any:
    return boto3.resource("dynamodb", config=_CONFIG)


@cache
def table(name: str) -> Any:
    return dynamodb().Table(name)


def reset() -> None:
    """Forget cached clients (tests switch between moto sessions)."""
    client.cache_clear()
    dynamodb.cache_clear()
    table.cache_clear()
