"""An NVDB API Skriv client as its documentation describes it, against the local stack over HTTP:
login (autentisering.md), JSON and XML changesets (endringssett/api-referanse.md), base path, CORS."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.support.client import EXCERPT_KUM, changeset, kum
from vegskriv.api.xml import CHANGESET_NS, LOCK_NS, to_xml
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
NS = {"c": CHANGESET_NS}
TERMINAL = {"AVVIST", "UTFØRT_OG_ETTERBEHANDLET", "KANSELLERT"}


@pytest.fixture(scope="module")
def stack():
    env = {"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL", "CORS_ORIGINS": "https://kart.example",
           "OIDC_LOCAL_USERS": json.dumps({"forvalter": ["nva/9_system_admin"]})}
    with LocalStack(port=0, env=env) as running:
        yield running


def login(base: str, user: str, password: str | None = None) -> dict:
    # As in autentisering.md: curl .../rest/v1/oidc/authenticate -d "{'username': ..., 'realm': 'EMPLOYEE'}"
    body = f"{{'username': '{user}', 'password': '{password or user}', 'realm': 'EMPLOYEE'}}"
    r = requests.post(f"{base}/rest/v1/oidc/authenticate", data=body.encode(),
                      headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/json")
    return r.json()


def test_documented_client_logs_in_registers_starts_polls_and_reads_status(stack):
    tokens = login(stack.url, "olanor")
    assert set(tokens) == {"idToken", "accessToken", "refreshToken"}
    headers = {"Authorization": f"Bearer {tokens['idToken']}", "X-Client": "MinKlientApplikasjon",
               "Content-Type": "application/json"}
    r = requests.post(f"{stack.url}/rest/v3/endringssett", data=EXCERPT_KUM.read_bytes(), headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    links = {link["rel"]: link["src"] for link in r.json()}
    assert r.headers["Location"] == links["self"]
    assert requests.post(links["start"], headers=headers, timeout=30).status_code == 202
    deadline = time.monotonic() + 20
    while (state := requests.get(links["fremdrift"], headers=headers, timeout=30).json()) not in TERMINAL:
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    status = requests.get(links["status"], headers=headers, timeout=30).json()
    assert status["eier"] == "olanor" and status["klient"] == "MinKlientApplikasjon"
    assert status["fremdrift"] == state
    assert {"rel": "self", "src": links["status"]} in status["ressurser"]
    # Local time with milliseconds, no offset, as NVDB writes it.
    assert len(status["mottatt"]) == len("2020-05-29T09:54:45.886") and "+" not in status["mottatt"]


def test_access_token_and_refreshed_tokens_are_bearer_tokens_but_the_refresh_token_is_not(stack):
    tokens = login(stack.url, "kari")
    renewed = requests.post(f"{stack.url}/rest/v1/oidc/refresh", json={"refreshToken": tokens["refreshToken"]},
                            timeout=30).json()
    assert set(renewed) == {"idToken", "accessToken"}
    for token, expected in ((tokens["accessToken"], 200), (renewed["idToken"], 200), (renewed["accessToken"], 200),
                            (tokens["refreshToken"], 401)):
        r = requests.get(f"{stack.url}/rest/v3/endringssett", headers={"Authorization": f"Bearer {token}"},
                         timeout=30)
        assert r.status_code == expected, r.text


def test_wrong_password_or_refresh_token_answers_an_empty_object(stack):
    assert login(stack.url, "olanor", "feil") == {}
    r = requests.post(f"{stack.url}/rest/v1/oidc/refresh", json={"refreshToken": "tull"}, timeout=30)
    assert (r.status_code, r.json()) == (200, {})


def test_roles_of_a_local_user_come_from_the_users_file_with_the_nva_prefix(stack):
    tokens = login(stack.url, "forvalter")
    headers = {"Authorization": f"Bearer {tokens['idToken']}"}
    # Creating an external lock takes 9_system_admin (or 5_fagdata_admin); olanor is refused.
    lock = {"vegobjekttyper": [{"typeId": 83}], "stedfesting": [{"veglenkesekvensNvdbId": 41}],
            "varighetSekunder": 60}
    user = {"Authorization": f"Bearer {login(stack.url, 'olanor')['idToken']}"}
    assert requests.post(f"{stack.url}/rest/v1/lås", json=lock, headers=user, timeout=30).status_code == 403
    created = requests.post(f"{stack.url}/rest/v1/lås", data=to_xml("lås", lock, LOCK_NS),
                            headers={**headers, "Content-Type": "application/xml"}, timeout=30)
    assert created.status_code == 201, created.text
    made = ET.fromstring(created.content)  # answered in XML, as it was sent
    assert made.tag == f"{{{LOCK_NS}}}lås" and made.get("id")
    listed = requests.get(f"{stack.url}/rest/v1/lås", headers={**headers, "Accept": "application/xml"}, timeout=30)
    assert ET.fromstring(listed.content).tag == f"{{{LOCK_NS}}}låsliste"
    requests.delete(f"{stack.url}/rest/v1/lås/{made.get('id')}", headers=headers, timeout=30)


def test_xml_changeset_goes_through_the_whole_flow_and_its_status_is_xml(stack):
    token = login(stack.url, "olanor")["idToken"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/xml", "X-Client": "xml"}
    body = to_xml("endringssett", changeset(registrer=[kum("kum#xml")]))
    r = requests.post(f"{stack.url}/nvdb/apiskriv/rest/v3/endringssett", data=body, headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    assert r.headers["Content-Type"].startswith("application/xml")
    links = {e.get("rel"): e.get("src") for e in ET.fromstring(r.content).findall("c:ressurs", NS)}
    assert links["start"].startswith(f"{stack.url}/nvdb/apiskriv/rest/v3/endringssett/")
    assert requests.post(links["start"], headers=headers, timeout=30).status_code == 202
    deadline = time.monotonic() + 20
    while (state := ET.fromstring(requests.get(links["fremdrift"], headers=headers, timeout=30).content).text) \
            not in TERMINAL:
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert state == "UTFØRT_OG_ETTERBEHANDLET"
    r = requests.get(links["status"], headers={"Authorization": f"Bearer {token}", "Accept": "application/xml"},
                     timeout=30)
    status = ET.fromstring(r.content)
    assert r.headers["Content-Type"].startswith("application/xml") and status.tag == f"{{{CHANGESET_NS}}}status"
    assert status.find("c:fremdrift", NS).text == "UTFØRT_OG_ETTERBEHANDLET"
    [result] = status.findall("c:resultat/c:vegobjekter/c:vegobjekt", NS)
    assert result.get("tempId") == "kum#xml" and int(result.get("nvdbId")) > 0
    # The changeset as JSON has the typed values, not XML's text.
    fetched = requests.get(links["self"], headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
    assert fetched["registrer"]["vegobjekter"][0]["typeId"] == 83


def test_a_fetched_changeset_can_be_posted_again(stack):
    token = login(stack.url, "olanor")["idToken"]
    headers = {"Authorization": f"Bearer {token}"}
    r = requests.post(f"{stack.url}/rest/v3/endringssett", json=changeset(registrer=[kum("kum#igjen")]),
                      headers=headers, timeout=30)
    fetched = requests.get(r.headers["Location"], headers=headers, params={"inkluderResultat": "nei"}, timeout=30)
    assert "resultat" not in fetched.json()["status"]
    again = requests.post(f"{stack.url}/rest/v3/endringssett", json=fetched.json(), headers=headers, timeout=30)
    assert again.status_code == 201, again.text


def test_content_negotiation_errors_verbs_and_query_flags(stack):
    headers = {"Authorization": f"Bearer {login(stack.url, 'olanor')['idToken']}"}
    url = f"{stack.url}/rest/v3/endringssett"
    r = requests.get(url, headers={**headers, "Accept": "image/png"}, timeout=30)
    assert r.status_code == 406 and "image/png" in r.json()["message"]
    r = requests.post(url, data="<endringssett", headers={**headers, "Content-Type": "application/xml"}, timeout=30)
    assert r.status_code == 400 and ET.fromstring(r.content).tag == "{http://nvdb.vegvesen.no/apiskriv/fault/v1}fault"
    r = requests.delete(url, headers=headers, timeout=30)
    assert r.status_code == 405 and "GET" in r.headers["Allow"]
    for flag in ("JA", "ja", "NEI", "true"):
        assert requests.get(url, params={"sorterStigende": flag}, headers=headers, timeout=30).status_code == 200
    assert requests.get(url, params={"sorterStigende": "kanskje"}, headers=headers, timeout=30).status_code == 400


def test_cors_for_configured_origins_only(stack):
    url = f"{stack.url}/rest/v3/endringssett"
    preflight = requests.options(url, headers={"Origin": "https://kart.example",
                                               "Access-Control-Request-Method": "POST"}, timeout=30)
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://kart.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    other = requests.options(url, headers={"Origin": "https://annen.example"}, timeout=30)
    assert "Access-Control-Allow-Origin" not in other.headers
    r = requests.get(url, headers={"Origin": "https://kart.example",
                                   "Authorization": f"Bearer {login(stack.url, 'olanor')['idToken']}"}, timeout=30)
    assert r.headers["Access-Control-Allow-Origin"] == "https://kart.example"


def test_dry_run_without_locking_is_a_dry_run(stack):
    headers = {"Authorization": f"Bearer {login(stack.url, 'olanor')['idToken']}", "X-NVDB-DryRun-NoLocking": "true"}
    r = requests.post(f"{stack.url}/rest/v3/endringssett", json=changeset(registrer=[kum("kum#prøve")]),
                      headers=headers, timeout=30)
    assert r.status_code == 201, r.text
    status = requests.get(f"{r.headers['Location']}/status", headers=headers, timeout=30).json()
    assert status["behandlingsparametere"]["dryrun"] is True
