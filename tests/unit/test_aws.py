"""vegskriv.aws: the package's boto3 clients."""

import os
import re
from pathlib import Path
from typing import Any

import pytest

from vegskriv import aws

PACKAGE = Path(aws.__file__).parent


def test_making_the_clients_does_not_list_every_service_botocore_knows(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore would list its ~450 service folders once per kind of model (~1,400 listdir calls,
    ~45 ms of the first request after a cold start) to check each name before loading its model."""
    session = aws.session.__wrapped__()  # a fresh one: nothing loaded or listed yet
    listed: list[Any] = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path=".": listed.append(path) or real(path))
    session.resource("dynamodb", region_name="eu-north-1")
    for service in aws.SERVICES:
        session.client(service, region_name="eu-north-1")
    assert listed  # each service's own folder is listed, for its model versions
    assert [p for p in listed if Path(p).name in ("data", "models")] == []  # the folders of every service


def test_every_service_the_package_calls_is_one_its_session_knows() -> None:
    named = {match for path in PACKAGE.rglob("*.py") if "local" not in path.relative_to(PACKAGE).parts
             for match in re.findall(r"aws\.client\(\"([a-z0-9-]+)\"\)", path.read_text(encoding="utf-8"))}
    assert named and named <= set(aws.SERVICES)


def test_a_service_outside_the_list_is_refused_by_name() -> None:
    from botocore.exceptions import UnknownServiceError

    with pytest.raises(UnknownServiceError, match="lambda"):
        aws.session.__wrapped__().client("lambda", region_name="eu-north-1")
