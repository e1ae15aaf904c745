"""boto3 clients and tables, created once per process (Lambda reuses them across invocations)."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.loaders import Loader, instance_cache

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5})

# The services the package's clients call (tests/unit/test_aws.py checks that no other is named).
SERVICES = ("cognito-idp", "dynamodb", "s3", "secretsmanager", "sqs", "stepfunctions")


class _KnownServices(Loader):
    """Before loading a service's model, botocore checks the name against every service it has data
    for: ~450 folders listed once per kind of model (~1,400 listdir and ~4,000 stat calls, ~45 ms
    of the first request after a cold start). The names asked for here are known."""

    @instance_cache
    def list_available_services(self, type_name: str) -> list[str]:
        return list(SERVICES)


@cache
def session() -> boto3.session.Session:
    """The session of every client here (not boto3's default one, which the local stack uses for
    other services). Kept across :func:`reset`, as boto3's default session is."""
    core = botocore.session.get_session()
    paths = core.get_config_variable("data_path")  # AWS_DATA_PATH, as botocore.loaders.create_loader reads it
    core.register_component("data_loader", _KnownServices(extra_search_paths=[
        os.path.expanduser(os.path.expandvars(p)) for p in paths.split(os.pathsep)] if paths else None))
    return boto3.session.Session(botocore_session=core)


@cache
def client(service: str) -> Any:
    return session().client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def dynamodb() -> Any:
    return session().resource("dynamodb", config=_CONFIG)  # type: ignore[call-overload]


@cache
def table(name: str) -> Any:
    return dynamodb().Table(name)


def reset() -> None:
    """Forget cached clients (tests switch between moto sessions)."""
    client.cache_clear()
    dynamodb.cache_clear()
    table.cache_clear()
