"""The metrics and state-change log lines of changesets, captured as Powertools writes them (EMF on stdout)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.client import changeset, kum
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e
SEQUENCE = 1125766


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "30", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


@pytest.fixture
def emitted(monkeypatch, capsys) -> Any:
    """The metrics written from now on, as (name, value, dimensions) with the namespace checked."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    capsys.readouterr()

    def read() -> list[tuple[str, float, dict[str, str]]]:
        found = []
        for line in capsys.readouterr().out.splitlines():
            if not line.startswith("{") or '"_aws"' not in line:
                continue
            emf = json.loads(line)
            [directive] = emf["_aws"]["CloudWatchMetrics"]
            assert directive["Namespace"] == "vegskriv"
            [dimension_names] = directive["Dimensions"]
            dimensions = {name: emf[name] for name in dimension_names}
            for metric in directive["Metrics"]:
                [value] = emf[metric["Name"]]  # one value per line: nothing waits to be batched
                found.append((metric["Name"], value, dimensions))
        return found
    return read


def on(temp_id: str) -> dict[str, Any]:
    return kum(temp_id, stedfesting={"punkt": [{"veglenkesekvensNvdbId": SEQUENCE, "posisjon": 0.3}]})


def test_one_changeset_emits_registered_started_validated_and_finished(olanor, emitted):
    _, status = olanor.run(changeset(registrer=[on("kum#1"), on("kum#2")]))
    assert status["fremdrift"] == "UTFØRT_OG_ETTERBEHANDLET"
    metrics = emitted()
    service = {"service": "vegskriv"}
    named = {name: (value, dims) for name, value, dims in metrics}
    assert [name for name, _, _ in metrics] == ["EndringssettRegistrert", "VegobjekterPerEndringssett",
                                                "EndringssettStartet", "ValideringTid", "EndringssettFerdig"]
    assert named["EndringssettRegistrert"] == (1, {**service, "dryrun": "false"})
    assert named["VegobjekterPerEndringssett"] == (2, service)
    assert named["EndringssettStartet"] == (1, service)
    assert named["ValideringTid"][1] == service and 0 < named["ValideringTid"][0] < 30
    assert named["EndringssettFerdig"] == (1, {**service, "fremdrift": "UTFØRT_OG_ETTERBEHANDLET",
                                                "aarsak": "INGEN"})


def test_a_rejected_changeset_is_counted_finished_with_its_reason(olanor, emitted):
    bad = on("kum#bad")
    bad["typeId"] = 999999
    _, status = olanor.run(changeset(registrer=[bad]))
    assert status["fremdrift"] == "AVVIST"
    finished = [dims for name, _, dims in emitted() if name == "EndringssettFerdig"]
    assert finished == [{"service": "vegskriv", "fremdrift": "AVVIST", "aarsak": "VALIDERINGSFEIL"}]


def test_a_lock_wait_is_counted_and_its_length_measured(olanor, admin, emitted):
    r = admin.request("POST", "/rest/v1/lås", data=json.dumps({
        "vegobjekttyper": [{"typeId": 83, "låstype": "NORMAL"}], "varighetSekunder": 3600,
        "stedfesting": [{"veglenkesekvensNvdbId": SEQUENCE, "fra": 0.0, "til": 1.0}]}))
    assert r.status_code == 201, r.text
    changeset_id = olanor.register(changeset(registrer=[on("kum#waits")]))
    olanor.start(changeset_id)
    assert olanor.wait(changeset_id, until={"VENTER"}) == "VENTER"
    time.sleep(1.1)  # the wait is measured in whole seconds from its start
    assert admin.request("DELETE", f"/rest/v1/lås/{r.json()['id']}").status_code == 200
    assert olanor.wait(changeset_id, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=15) == "UTFØRT_OG_ETTERBEHANDLET"
    metrics = emitted()
    assert [(value, dims) for name, value, dims in metrics if name == "LaasVenting"] == [(1, {"service": "vegskriv"})]
    [(waited, dims)] = [(value, dims) for name, value, dims in metrics if name == "LaasVentetid"]
    assert dims == {"service": "vegskriv"} and 1 <= waited < 15


def test_every_state_change_logs_one_line_with_the_changeset_id(olanor, caplog):
    caplog.set_level("INFO", logger="vegskriv")
    changeset_id, _ = olanor.run(changeset(registrer=[on("kum#logged")]))
    changes = [(r.endringssettId, r.fremdrift) for r in caplog.records
               if r.getMessage() == "fremdrift endret" and getattr(r, "endringssettId", None) == changeset_id]
    assert changes == [(changeset_id, "BEHANDLES"), (changeset_id, "UTFØRT"),
                       (changeset_id, "UTFØRT_OG_ETTERBEHANDLET")]
