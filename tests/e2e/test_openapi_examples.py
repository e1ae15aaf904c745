"""The request examples in ``/openapi.json`` (what Swagger UI's "Try it out" starts from) work as
written against a fresh local stack: each is accepted, and the changeset example validates clean."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.client import Client
from vegskriv.api import examples
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
# The example resources' own ids, for the path parameters of the operations that act on them.
PATH_VALUES = {"eier": examples.OWNER["kode"], "tjenestekode": examples.SERVICE["tjenestekode"],
               "konsument_id": examples.CONSUMER["id"]}


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def _examples(spec: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(method, path, body) of every request example; a resource before those under it."""
    found = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content") or {}
            found += [(method.upper(), path, example["value"]) for media in content.values()
                      for example in (media.get("examples") or {}).values()]
    unique = {(m, p, json.dumps(v, sort_keys=True)): (m, p, v) for m, p, v in found}  # JSON and XML share one
    return sorted(unique.values(), key=lambda e: e[1].count("/"))


def test_every_request_example_is_accepted_as_written(stack: LocalStack) -> None:
    client = Client(stack.url, "fagadmin", ("9_system_admin", "5_fagdata_admin", "0_bruker_fagdata"))
    found = _examples(client.request("GET", "/openapi.json").json())
    assert {(m, p) for m, p, _ in found} >= {("POST", "/rest/v3/endringssett"), ("POST", "/rest/v1/lås"),
                                             ("POST", "/rest/v1/konsumenter"), ("POST", "/rest/v1/tjenesteeiere")}
    for method, path, body in found:
        r = client.request(method, path.format(**PATH_VALUES), data=json.dumps(body))
        assert r.status_code < 300, (method, path, r.status_code, r.text[:300])


def test_the_changeset_example_validates_without_errors_or_warnings(stack: LocalStack) -> None:
    client = Client(stack.url, "olanor", ("0_bruker_fagdata",))
    r = client.request("POST", "/rest/v3/endringssett/validator", data=json.dumps(examples.CHANGESET))
    assert r.status_code == 200, r.text
    vegobjekter = r.json()["resultat"]["vegobjekter"] if "resultat" in r.json() else r.json()["vegobjekter"]
    assert [(o["feil"], o["advarsler"]) for o in vegobjekter] == [([], [])]
