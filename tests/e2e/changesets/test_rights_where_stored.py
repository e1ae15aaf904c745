"""Data rights in the workflow for what a changeset writes without locating it in the document:
lukk/fjern and partial updates act where the stored version lies, and cascades write daughters."""

from __future__ import annotations

import json

import pytest

from tests.support.client import Client
from tests.support.varsel_cases import KUM_2_VERSJONER, KUM_LEST, TUNNEL_LUKK, TUNNELLOP_LUKK, doc, world
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        admin = Client(running.url, "systemadmin", ("9_system_admin",))
        r = admin.request("PUT", "/rest/v3/vegobjekter", data=json.dumps({"vegobjekter": world()}))
        assert r.status_code == 200, r.text
        yield running


def granted(stack, admin: Client, user: str, *grants: dict) -> Client:
    r = admin.request("PUT", f"/rest/v3/rettigheter/{user}", data=json.dumps({"tilganger": list(grants)}))
    assert r.status_code == 200, r.text
    return Client(stack.url, user)


def codes(status: dict) -> list[str]:
    return [v["kode"] for e in status["resultat"]["vegobjekter"] for v in e["feil"]] + \
        [v["kode"] for v in status["resultat"]["feil"]]


def test_a_user_with_rights_in_the_kommune_may_close_an_object_stored_there(stack, admin):
    """KUM_LEST lies on VLS (kommune 301): a grant for Kum in kommune 301 covers closing it."""
    kari = granted(stack, admin, "kari301", {"vegobjekttyper": [83], "kommuner": [301]})
    _, status = kari.run(doc(lukk=[{"typeId": 83, "nvdbId": KUM_LEST, "versjon": 1, "lukkedato": "2025-01-01"}]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", json.dumps(status["resultat"], ensure_ascii=False)


def test_a_user_with_rights_in_the_kommune_may_partly_update_an_object_stored_there(stack, admin):
    kari = granted(stack, admin, "kari301", {"vegobjekttyper": [83], "kommuner": [301]})
    _, status = kari.run(doc(delvisOppdater=[{"typeId": 83, "nvdbId": KUM_2_VERSJONER, "versjon": 2,
                                              "gyldighetsperiode": {"startdato": "2025-01-01"},
                                              "egenskaper": [{"typeId": 1586, "verdi": ["2.0"],
                                                              "operasjon": "oppdater"}]}]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET", json.dumps(status["resultat"], ensure_ascii=False)


def test_a_cascade_does_not_close_daughters_of_a_type_the_user_has_no_right_to(stack, admin):
    """Rights for Tunnel (581) only: closing a tunnel with kaskadelukking must not close its
    Tunnelløp (67), a type the user may not change."""
    per = granted(stack, admin, "pertunnel", {"vegobjekttyper": [581]})
    _, status = per.run(doc(lukk=[{"typeId": 581, "nvdbId": TUNNEL_LUKK, "versjon": 1, "lukkedato": "2025-01-01",
                                   "kaskadelukking": "JA"}]))
    lop = per.request("GET", f"/rest/v3/vegobjekter/67/{TUNNELLOP_LUKK}").json()["versjoner"][-1]
    assert "sluttdato" not in lop["gyldighetsperiode"], "Tunnelløp lukket av en bruker uten rett til typen 67"
    assert status["fremdrift"] == "AVVIST" and "MANGLER_TILGANG" in codes(status)
