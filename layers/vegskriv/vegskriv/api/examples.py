"""Request bodies that work as written against ``make run`` (its embedded catalog 2.38 and road
network): the OpenAPI document offers them as examples, so Swagger UI's "Try it out" starts from a
body the API accepts, and ``make fuzz`` makes its resources from them (a test keeps them working)."""

from __future__ import annotations

from typing import Any

# A Kum with every property its type requires or recommends, so it validates without a warning.
KUM = {"typeId": 83, "tempId": "kum#1", "gyldighetsperiode": {"startdato": "2024-09-27"},
       "stedfesting": {"punkt": [{"veglenkesekvensNvdbId": 1125766, "posisjon": 0.3}]},
       "egenskaper": [{"typeId": 1141, "verdi": ["Firkantkum"]}, {"typeId": 1269, "verdi": ["Drenering"]},
                      {"typeId": 1411, "verdi": ["Betong"]}, {"typeId": 2290, "verdi": ["Kuppelrist, flat"]},
                      {"typeId": 1586, "verdi": [1.5]}, {"typeId": 7065, "verdi": [2024]},
                      {"typeId": 10470, "verdi": ["K-1"]},
                      {"typeId": 4784, "geometri": [{"srid": 5973, "wkt": "POINT Z (262000 6649000 10)"}]}]}
CHANGESET = {"datakatalogversjon": "2.38", "registrer": {"vegobjekter": [KUM]}}
LOCK = {"vegobjekttyper": [{"typeId": 83, "låstype": "NORMAL"}], "varighetSekunder": 3600,
        "stedfesting": [{"veglenkesekvensNvdbId": 1125766, "fra": 0.0, "til": 1.0}]}
CONSUMER = {"id": "kopi", "navn": "SQLite-kopi", "utvalg": {"vegobjekttyper": [83]},
            "mål": {"type": "HTTP", "url": "http://127.0.0.1:3200"}, "sletteterskel": {"antall": 100, "andel": 0.05}}
RUN = {"modus": "FULL", "tørrkjøring": True}
OWNER = {"kode": "VEGVESENET", "navn": "Statens vegvesen", "administratorer": ["fagadmin"]}
SERVICE = {"tjenestekode": "KUM", "navn": "Innmelding av kummer", "tjenestetype": "INNSENDING"}
EDITION = {"utgavekode": "1", "navn": "Utgave 1", "skjema": {
    "vegobjekttyper": [83], "operasjoner": ["registrer"], "datakatalogversjon": "2.38"}}
STORED_KUM = {"vegobjekter": [{"id": 7001, "versjon": 1, "typeId": 83, "gyldighetsperiode": {"startdato": "2020-01-01"},
                               "egenskaper": KUM["egenskaper"], "stedfesting": KUM["stedfesting"]}]}


def example(summary: str, value: dict[str, Any]) -> Any:
    """One named OpenAPI example, for ``Body(openapi_examples=...)`` (Powertools passes it on as
    given; typed Any: its own Example model is not imported at init)."""
    return {"eksempel": {"summary": summary, "value": value}}
