"""The edition's form check and the X-NVDB-Tjeneste header, without AWS."""

from __future__ import annotations

import pytest

from tests.support.client import changeset, kum
from vegskriv.changesets.models import parse_endringssett
from vegskriv.errors import BadRequest
from vegskriv.local.cli import build_parser
from vegskriv.local.services_cli import request_for
from vegskriv.services.models import Skjema
from vegskriv.services.submission import form_errors, parse

FORM = Skjema(vegobjekttyper=[83], operasjoner=["registrer"], påkrevdeEgenskaper={83: [1141]},
              datakatalogversjon="2.38")


def _codes(doc: dict) -> list[tuple[str, str | None, int | None]]:
    return [(v.kode, v.referanse, v.egenskapTypeId) for _, _, v in form_errors(parse_endringssett(doc), FORM)]


@pytest.mark.parametrize(("doc", "expected"), [
    (changeset(registrer=[kum("a")]), []),
    (changeset(registrer=[kum("a", typeId=95)]), [("VEGOBJEKTTYPE_IKKE_I_SKJEMA", "a", None)]),
    (changeset(registrer=[kum("a", egenskaper=[])]), [("MANGLER_SKJEMAPÅKREVD_EGENSKAP", "a", 1141)]),
    (changeset(lukk=[{"typeId": 83, "nvdbId": 7, "versjon": 1, "lukkedato": "2025-01-01"}]),
     [("OPERASJON_IKKE_I_SKJEMA", "7", None)]),
])
def test_form_errors(doc, expected):
    assert _codes(doc) == expected


@pytest.mark.parametrize("header", ["SVV/KUM", "SVV/KUM/1/2", "SVV//1", "S V V/KUM/1"])
def test_malformed_header_is_400(header):
    with pytest.raises(BadRequest, match="X-NVDB-Tjeneste"):
        parse(header)


@pytest.mark.parametrize(("argv", "expected"), [
    (["eier", "--kode", "A", "--navn", "N", "--admin", "x"],
     ("POST", "/rest/v1/tjenesteeiere", {"kode": "A", "navn": "N", "administratorer": ["x"]})),
    (["master", "--eier", "A", "--tjeneste", "T", "--utgave", "1", "--fjern"],
     ("DELETE", "/rest/v1/tjenesteeiere/A/tjenester/T/utgaver/1/master", None)),
    (["fra-master", "--eier", "B", "--master", "A/T/1", "--utgave", "2", "--push-url", "https://b.no/x"],
     ("POST", "/rest/v1/tjenesteeiere/B/utgaver-fra-master",
      {"master": {"eier": "A", "tjenestekode": "T", "utgavekode": "1"}, "utgavekode": "2",
       "oversendingsmetode": {"type": "PUSH", "url": "https://b.no/x"}})),
    (["kø", "--eier", "B", "--tjenestekode", "T", "--antall", "5"],
     ("GET", "/rest/v1/tjenesteeiere/B/nedlastingskø?tjenestekode=T&antall=5", None)),
    (["slett", "--eier", "B", "--element", "e1"], ("DELETE", "/rest/v1/tjenesteeiere/B/nedlastingskø/e1", None)),
])
def test_cli_requests(argv, expected):
    assert request_for(build_parser().parse_args(["tjenester", *argv])) == expected


def test_cli_names_what_is_missing():
    with pytest.raises(SystemExit, match="--eier"):
        request_for(build_parser().parse_args(["tjenester", "kø"]))


def test_cli_url_from_the_environment_like_the_client_cli(monkeypatch):
    monkeypatch.setenv("VEGSKRIV_URL", "http://127.0.0.1:3999")
    assert build_parser().parse_args(["tjenester", "mastere"]).url == "http://127.0.0.1:3999"
