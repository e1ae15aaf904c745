"""A small HTTP client for the local stack, as an NVDB client would use it."""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import requests

from tests.conftest import EXCERPTS
from vegskriv.auth import issue_dev_token

TERMINAL = {"AVVIST", "UTFØRT_OG_ETTERBEHANDLET", "KANSELLERT"}
EXCERPT_KUM = EXCERPTS / "04_utdrag_registrer_83_kum.json"

# A Kum (type 83) shaped like the real excerpt, located on the sample network.
KUM: dict[str, Any] = {
    "typeId": 83, "tempId": "kum#1", "gyldighetsperiode": {"startdato": "2024-09-27"},
    "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 1125766, "posisjon": 0.3, "sideposisjon": "H"}]},
    "egenskaper": [
        {"typeId": 1141, "verdi": ["Standard kum"]}, {"typeId": 1269, "verdi": ["Drenering"]},
        {"typeId": 1411, "verdi": ["Betong"]}, {"typeId": 2290, "verdi": ["Kuppelrist, høy"]},
        {"typeId": 1586, "verdi": ["1.4"]}, {"typeId": 7065, "verdi": ["2023"]},
        {"typeId": 10470, "verdi": ["Ingen"]},
        {"typeId": 4784, "geometri": [{"srid": 25833, "wkt": "POINT (218124.0 7023329.5 350.3)"}]}]}


def kum(temp_id: str = "kum#1", **changes: Any) -> dict[str, Any]:
    obj = copy.deepcopy(KUM)
    obj["tempId"] = temp_id
    obj.update(changes)
    return obj


def changeset(**operations: Any) -> dict[str, Any]:
    return {"datakatalogversjon": "2.38", **{k: {"vegobjekter": v} for k, v in operations.items()}}


class Client:
    def __init__(self, base_url: str, user: str = "olanor", roles: tuple[str, ...] = ("0_bruker_fagdata",),
                 client_name: str = "pytest"):
        self.base = base_url
        self.user = user
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {issue_dev_token(user, list(roles))}",
                                     "Content-Type": "application/json", "X-Client": client_name})

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=30, **kwargs)

    def register(self, doc: dict[str, Any], **headers: str) -> str:
        r = self.request("POST", "/rest/v3/endringssett", data=json.dumps(doc), headers=headers)
        assert r.status_code == 201, r.text
        return r.headers["Location"].rsplit("/", 1)[1]

    def start(self, changeset_id: str) -> requests.Response:
        return self.request("POST", f"/rest/v3/endringssett/{changeset_id}/start")

    def fremdrift(self, changeset_id: str) -> str:
        r = self.request("GET", f"/rest/v3/endringssett/{changeset_id}/fremdrift")
        assert r.status_code == 200, r.text
        return r.json()

    def wait(self, changeset_id: str, until: set[str] = TERMINAL, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            state = self.fremdrift(changeset_id)
            if state in until or time.monotonic() > deadline:
                return state
            time.sleep(0.05)

    def run(self, doc: dict[str, Any], **headers: str) -> tuple[str, dict[str, Any]]:
        changeset_id = self.register(doc, **headers)
        assert self.start(changeset_id).status_code == 202
        self.wait(changeset_id)
        return changeset_id, self.status(changeset_id)

    def status(self, changeset_id: str) -> dict[str, Any]:
        r = self.request("GET", f"/rest/v3/endringssett/{changeset_id}/status")
        assert r.status_code == 200, r.text
        return r.json()
