"""vegskriv.client against tiny HTTP servers on 127.0.0.1: polling by Retry-After, login, faults."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from vegskriv.auth import issue_dev_token
from vegskriv.client import ApiError, Timeout, VegskrivClient
from vegskriv.local.client_cli import why_refused

STATUS = {"mottatt": "2025-01-01T00:00:00Z", "fremdrift": "UTFØRT_OG_ETTERBEHANDLET",
          "fremdriftOppdatert": "2025-01-01T00:00:01Z", "eier": "olanor",
          "resultat": {"vegobjekter": [{"tempId": "kum#1", "nvdbId": 1100000001, "versjon": 1}]}}


class Fake:
    """Answers fremdrift from a script of (code, Retry-After) and records every request."""

    def __init__(self, script: list[tuple[str, str | None]]):
        self.script = script
        self.requests: list[tuple[str, str, Any, Any]] = []  # headers: case-insensitive Message


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start(fake: Fake) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, None, self.headers))
                if self.path.endswith("/fremdrift"):
                    code, wait = fake.script.pop(0) if len(fake.script) > 1 else fake.script[0]
                    self._answer(200, code, {"Retry-After": wait} if wait else None)
                elif "/status" in self.path:
                    self._answer(200, STATUS)
                elif self.path.startswith("/rest/v3/endringssett?"):
                    self._answer(200, {"antallTotalt": 0, "endringssett": []})
                else:
                    self._answer(401, {"message": "Unauthorized"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"] or 0)) or b"null")
                fake.requests.append(("POST", self.path, body, self.headers))
                if self.path == "/rest/v1/oidc/authenticate":
                    if body["password"] != "hemmelig":
                        self._answer(401, {"message": "Feil brukernavn eller passord"})
                    else:
                        self._answer(200, {"idToken": "id-token", "accessToken": "a", "refreshToken": "r"})
                else:
                    self._answer(400, {"message": "registrer.vegobjekter[0].typeId: mangler"})

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_follow_waits_as_long_as_retry_after_says(serve: Any) -> None:
    fake = Fake([("BEHANDLES", "1"), ("VENTER", "60"), ("BEHANDLES", "1"), ("UTFØRT_OG_ETTERBEHANDLET", None)])
    slept: list[float] = []
    status = VegskrivClient(serve(fake), "t").follow("abc", sleep=slept.append)
    assert slept == [1.0, 60.0, 1.0]
    assert status.resultat and status.resultat.vegobjekter[0].nvdbId == 1100000001


def test_follow_gives_up_at_its_timeout_without_sleeping_past_it(serve: Any) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)
    with pytest.raises(Timeout) as caught:
        VegskrivClient(serve(Fake([("VENTER", "60")])), "t").follow("abc", timeout=0.5, sleep=sleep)
    assert caught.value.progress.fremdrift == "VENTER"
    assert slept and all(s <= 0.5 for s in slept)


def test_login_posts_credentials_and_uses_the_id_token(serve: Any) -> None:
    fake = Fake([("UTFØRT_OG_ETTERBEHANDLET", None)])
    client = VegskrivClient.login(serve(fake), "olanor", "hemmelig", realm="EXTERNAL")
    client.status("abc")
    method, path, body, _ = fake.requests[0]
    assert (method, path, body) == ("POST", "/rest/v1/oidc/authenticate",
                                    {"username": "olanor", "password": "hemmelig", "realm": "EXTERNAL"})
    assert fake.requests[1][3]["Authorization"] == "Bearer id-token"
    with pytest.raises(ApiError) as refused:
        VegskrivClient.login(client.url, "olanor", "feil")
    assert refused.value.status == 401 and refused.value.message == "Feil brukernavn eller passord"


def test_a_fault_carries_the_apis_message_and_the_dry_run_header_is_sent(serve: Any) -> None:
    fake = Fake([("IKKE_STARTET", None)])
    with pytest.raises(ApiError) as fault:
        VegskrivClient(serve(fake), "t").register({"datakatalogversjon": "2.38"}, dryrun=True, tjeneste="SVV/KUM/1")
    assert fault.value.status == 400 and fault.value.message == "registrer.vegobjekter[0].typeId: mangler"
    headers = fake.requests[0][3]
    assert headers["X-NVDB-DryRun"] == "true" and headers["X-NVDB-Tjeneste"] == "SVV/KUM/1"


def test_search_sends_its_filters_as_the_api_names_them(serve: Any) -> None:
    fake = Fake([("IKKE_STARTET", None)])
    found = VegskrivClient(serve(fake), "t").search(bruker_eller_klient="ola nordmann+co", årsak="VENTER_PÅ_LÅS",
                                                    fra_epoch_ms=0, antall=5)
    assert found.antallTotalt == 0
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(fake.requests[0][1]).query)
    assert query == {"antall": ["5"], "start": ["1"], "sorterStigende": ["false"], "fraEpochMs": ["0"],
                     "årsak": ["VENTER_PÅ_LÅS"], "brukernavnEllerKlient": ["ola nordmann+co"]}


@pytest.mark.parametrize(("token", "why"), [
    (None, "ingen token"),
    ("not-a-jwt", "ikke en gyldig JWT"),
    (issue_dev_token("olanor", [], ttl_seconds=-60), "tokenet utløp"),
    (issue_dev_token("olanor", [], issuer="annen-utsteder"), "utsteder 'annen-utsteder'"),
], ids=["missing", "malformed", "expired", "issuer"])
def test_without_a_reason_from_the_gateway_the_cli_reads_the_token_itself(token: str | None, why: str) -> None:
    # API Gateway's 401 says only "Unauthorized"; the CLI must still say what is wrong.
    refused = ApiError("GET", "https://x/rest/v3/endringssett", 401, "Unauthorized")
    assert why in why_refused(refused, token)
