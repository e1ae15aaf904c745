"""DynamoDB tables for moto tests, made from their definitions in ``template.yaml`` (one source of
truth: a key or index added there is in the tests too)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import boto3

from vegskriv.local.template import load_template_file

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
