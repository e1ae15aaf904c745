"""DynamoDB tables for moto tests, made from their definitions in ``template.yaml`` (one source of
truth: a key or index added there is in the tests too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from vegskriv import aws
from vegskriv.local.template import load_template_file
from vegskriv.settings import get_settings

ROOT = Path(__file__).resolve().parents[2]
_CREATE = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "LocalSecondaryIndexes", "BillingMode")


@cache
def _resources() -> dict[str, Any]:
    return load_template_file(ROOT / "template.yaml")["Resources"]


def create_template_table(logical_id: str, name: str, region: str = "eu-north-1") -> None:
    """Create ``logical_id``'s table (keys, attributes, indexes) as ``name``, inside ``mock_aws``."""
    properties = _resources()[logical_id]["Properties"]
    boto3.client("dynamodb", region_name=region).create_table(
        TableName=name, **{k: properties[k] for k in _CREATE if k in properties})


@contextmanager
def moto_tables(monkeypatch: pytest.MonkeyPatch, **tables: tuple[str, str]) -> Iterator[None]:
    """Inside ``mock_aws``, the template's tables: setting's environment variable = (logical id,
    name), e.g. ``LOCKS_TABLE=("LocksTable", "t")``; vegskriv's clients and settings made afresh."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    for variable, (_, name) in tables.items():
        monkeypatch.setenv(variable, name)
    with mock_aws():
        aws.reset()
        get_settings.cache_clear()
        for logical_id, name in tables.values():
            create_template_table(logical_id, name)
        try:
            yield
        finally:
            aws.reset()
            get_settings.cache_clear()
