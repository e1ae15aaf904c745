"""`vegskriv local --moto-port N`: the stack's moto is also served over HTTP, so the AWS CLI, boto3
in another process and `sam local invoke` (events/env.local.json) reach the same resources."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from vegskriv.local.stack import LocalStack

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[LocalStack, str]]:
    port = free_port()
    with LocalStack(ROOT / "template.yaml", moto_port=port, serve_api=False, run_pollers=False) as stack:
        yield stack, f"http://127.0.0.1:{port}"


def remote(endpoint: str, service: str) -> object:
    return boto3.client(service, endpoint_url=endpoint, region_name="eu-north-1",  # type: ignore[call-overload]
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_template_resources_are_served(served: tuple[LocalStack, str]) -> None:
    stack, endpoint = served
    tables = remote(endpoint, "dynamodb").list_tables()["TableNames"]  # type: ignore[attr-defined]
    assert set(stack.table_names.values()) <= set(tables)
    queues = remote(endpoint, "sqs").list_queues()["QueueUrls"]  # type: ignore[attr-defined]
    assert any(url.endswith("/vegskriv-StartQueue") for url in queues)
    machines = remote(endpoint, "stepfunctions").list_state_machines()["stateMachines"]  # type: ignore[attr-defined]
    assert {m["stateMachineArn"] for m in machines} == set(stack.state_machine_arns.values())


def test_a_write_over_http_is_seen_by_the_stack(served: tuple[LocalStack, str]) -> None:
    stack, endpoint = served
    table = stack.table_names["ReferenceTable"]
    remote(endpoint, "dynamodb").put_item(  # type: ignore[attr-defined]
        TableName=table, Item={"pk": {"S": "moto-server-test"}, "sk": {"S": "1"}})
    item = stack.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "moto-server-test"},
                                                                    "sk": {"S": "1"}})
    assert item["Item"]["pk"] == {"S": "moto-server-test"}
