"""Trust over real HTTP: forged or odd tokens, who may lock the road and for how long, hostile JSON."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from tests.support.client import Client, changeset, kum
from vegskriv.auth import LOCAL_DEV_SECRET
from vegskriv.changesets.locks import NyLås, external_claims
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store

pytestmark = pytest.mark.e2e
PER_OWNER = 3
DAY = 24 * 3600


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(port=0, env={"EXTERNAL_LOCKS_PER_OWNER": str(PER_OWNER),
                                 "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture(scope="module")
def fagadmin(stack: LocalStack) -> Client:
    return Client(stack.url, "fagadmin", ("5_fagdata_admin",))


def token(**claims: Any) -> str:
    now = int(time.time())
    base = {"sub": "mallory", "iss": "vegskriv-local", "aud": "vegskriv", "iat": now, "exp": now + 3600}
    return jwt.encode({k: v for k, v in {**base, **claims}.items() if v is not None}, LOCAL_DEV_SECRET,
                      algorithm="HS256")


def send(stack: LocalStack, method: str, path: str, bearer: str, body: Any = None) -> requests.Response:
    return requests.request(method, stack.url + path, timeout=30, data=None if body is None else json.dumps(body),
                            headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"})


# --- tokens and roles -------------------------------------------------------------------------------


def test_a_group_named_with_a_comma_is_not_system_admin(stack: LocalStack) -> None:
    forged = token(roles=["x,9_system_admin"])
    assert send(stack, "PUT", "/rest/v3/rettigheter/mallory", forged,
                {"tilganger": [{"vegobjekttyper": "alle"}]}).status_code == 403
    own = send(stack, "GET", "/rest/v3/rettigheter/meg", forged)
    assert own.status_code == 200 and own.json()["kilde"] != "administrator"


@pytest.mark.parametrize("claims", [
    {"roles": 9}, {"roles": True}, {"roles": {"9_system_admin": 1}}, {"exp": None},
    {"exp": int(time.time()) + 30 * DAY},
], ids=["number", "true", "dict", "no-exp", "30-days"])
def test_odd_tokens_answer_401(stack: LocalStack, claims: dict[str, Any]) -> None:
    r = send(stack, "GET", "/rest/v3/endringssett", token(**claims))
    assert r.status_code == 401 and r.json() == {"message": "Unauthorized"}


# --- external locks ---------------------------------------------------------------------------------


def lock_body(sequence: int = 1125766, seconds: int | None = 3600, **extra: Any) -> dict[str, Any]:
    body = {"vegobjekttyper": [{"typeId": 83, "låstype": "SEKUNDÆR"}],  # SEKUNDÆR: they never conflict
            "stedfesting": [{"veglenkesekvensNvdbId": sequence}], **extra}
    return body if seconds is None else {**body, "varighetSekunder": seconds}


def post_lock(client: Client, body: dict[str, Any]) -> requests.Response:
    return client.request("POST", "/rest/v1/lås", data=json.dumps(body))


def live_locks(client: Client, owner: str) -> int:
    return client.request("GET", "/rest/v1/lås", params={"eier": owner}).json()["antallTotalt"]


def test_a_plain_user_may_not_lock(olanor: Client) -> None:
    r = post_lock(olanor, lock_body())
    assert r.status_code == 403 and "9_system_admin" in r.json()["message"]
    assert live_locks(olanor, "olanor") == 0


def test_duration_is_capped_and_defaults_to_a_day(fagadmin: Client) -> None:
    r = post_lock(fagadmin, lock_body(seconds=7 * DAY + 1))
    assert r.status_code == 400 and r.json()["message"].startswith("varighetSekunder")
    assert live_locks(fagadmin, "fagadmin") == 0
    week = post_lock(fagadmin, lock_body(seconds=7 * DAY))
    default = post_lock(fagadmin, lock_body(seconds=None))
    assert (week.status_code, default.status_code) == (201, 201), (week.text, default.text)
    expires = time.mktime(time.strptime(default.json()["utløper"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    assert abs(expires - (time.time() + DAY)) < 120
    for r in (week, default):
        assert fagadmin.request("DELETE", f"/rest/v1/lås/{r.json()['id']}").status_code == 200


def test_live_external_locks_per_owner_are_capped(fagadmin: Client, admin: Client) -> None:
    ids = [post_lock(fagadmin, lock_body()).json()["id"] for _ in range(PER_OWNER)]
    refused = post_lock(fagadmin, lock_body())
    assert refused.status_code == 409 and refused.json()["message"].startswith("eier: fagadmin")
    assert live_locks(fagadmin, "fagadmin") == PER_OWNER
    assert fagadmin.request("DELETE", f"/rest/v1/lås/{ids.pop()}").status_code == 200
    again = post_lock(fagadmin, lock_body())
    assert again.status_code == 201
    ids.append(again.json()["id"])
    # The cap is per owner: an admin locking on behalf of another system counts for that system.
    for_other = [post_lock(admin, lock_body(eier="kontraktor")) for _ in range(PER_OWNER + 1)]
    assert [r.status_code for r in for_other] == [201] * PER_OWNER + [409]
    for lock_id in ids:
        fagadmin.request("DELETE", f"/rest/v1/lås/{lock_id}")
    for r in for_other[:PER_OWNER]:
        admin.request("DELETE", f"/rest/v1/lås/{r.json()['id']}")


def test_a_user_may_still_remove_its_own_lock(olanor: Client, admin: Client) -> None:
    request = NyLås.model_validate(lock_body())  # e.g. taken before locks needed a role
    claims = external_claims(request)
    lock_store.create_meta("olanors-lock", eier="olanor", kind="EKSTERN", claims=claims, lease_seconds=3600)
    assert lock_store.acquire("olanors-lock", claims, 3600).acquired
    theirs = post_lock(admin, lock_body()).json()["id"]
    assert olanor.request("DELETE", f"/rest/v1/lås/{theirs}").status_code == 404
    assert olanor.request("DELETE", "/rest/v1/lås/olanors-lock").status_code == 200
    assert live_locks(olanor, "olanor") == 0
    admin.request("DELETE", f"/rest/v1/lås/{theirs}")


# --- hostile JSON -----------------------------------------------------------------------------------

DEEP = "[" * 10_000 + "]" * 10_000
HOSTILE = {"deep": (DEEP, "nivåer dypt"), "5000-digits": ("9" * 5_000, "heltallet"),
           "10**400": (str(10**400), "heltallet")}
N = "__NUMBER__"  # where the hostile value goes in an otherwise sensible body
SEQUENCE = {"veglenkesekvensId": N, "lengde": 100.0, "kommune": 301, "fylke": 3, "vegkategori": "K",
            "startdato": "2000-01-01"}
VERSION = {"id": 1000, "versjon": 1, "typeId": 83, "gyldighetsperiode": {"startdato": "2020-01-01"},
           "egenskaper": [{"id": 1586, "verdi": N}]}
ENDPOINTS = {
    "register": ("olanor", "POST", "/rest/v3/endringssett",
                 changeset(registrer=[kum(egenskaper=[{"typeId": 7065, "verdi": [N]}])])),
    "validator": ("olanor", "POST", "/rest/v3/endringssett/validator",
                  changeset(registrer=[kum(egenskaper=[{"typeId": 7065, "verdi": [N]}])])),
    "datakatalog": ("admin", "PUT", "/rest/v3/datakatalog", {"versjon": "2.39", "vegobjekttyper": [{"id": N}]}),
    "vegnett": ("admin", "PUT", "/rest/v3/vegnett/veglenkesekvenser", {"veglenkesekvenser": [SEQUENCE]}),
    "vegobjekter": ("admin", "PUT", "/rest/v3/vegobjekter", {"vegobjekter": [VERSION]}),
    "lås": ("admin", "POST", "/rest/v1/lås", lock_body(oppdragId=N)),
    "rettigheter": ("admin", "PUT", "/rest/v3/rettigheter/kari", {"tilganger": [{"vegobjekttyper": [N]}]}),
}


def everything_stored(stack: LocalStack) -> dict[str, Any]:
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    tables = {}
    for name in dynamodb.list_tables()["TableNames"]:
        pages = dynamodb.get_paginator("scan").paginate(TableName=name)
        tables[name] = sorted(json.dumps(i, sort_keys=True, default=repr) for page in pages for i in page["Items"])
    for bucket in s3.list_buckets()["Buckets"]:
        listed = s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents") or []
        tables[bucket["Name"]] = sorted((o["Key"], o["ETag"]) for o in listed)
    return tables


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_hostile_json_is_400_and_stores_nothing(stack: LocalStack, olanor: Client, admin: Client,
                                                endpoint: str) -> None:
    who, method, path, template = ENDPOINTS[endpoint]
    client = {"olanor": olanor, "admin": admin}[who]
    before = everything_stored(stack)
    for kind, (value, problem) in HOSTILE.items():
        body = json.dumps(template).replace(json.dumps(N), value)
        r = client.request(method, path, data=body)
        assert r.status_code == 400, (kind, r.status_code, r.text[:200])
        assert problem in r.json()["message"], (kind, r.text[:200])
    assert everything_stored(stack) == before
