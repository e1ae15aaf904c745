"""``make fuzz`` gives schemathesis the ids of resources it made first (vegskriv.local.fuzz.seed):
each must name a resource that exists, or those operations are only ever fuzzed into 404."""

from __future__ import annotations

import uuid

import pytest

from tests.support.client import Client
from vegskriv.auth import issue_dev_token
from vegskriv.local.fuzz import seed
from vegskriv.local.stack import LocalStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack():
    with LocalStack(port=0, env={"POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def test_every_seeded_id_names_an_existing_resource(stack: LocalStack) -> None:
    ids = seed(stack.url, issue_dev_token("fuzzer", ["0_bruker_fagdata", "9_system_admin"]))
    assert set(ids) >= {"eier", "tjenestekode", "utgavekode", "konsument_id", "kjoring_id", "endringssett_id",
                        "lock_id", "binaer_id", "opplasting_id", "nvdb_id", "brukernavn", "type_id", "vls_id"}
    assert uuid.UUID(ids["opplasting_id"])  # an upload ticket has no GET; its id is what registrer takes
    fuzzer = Client(stack.url, "fuzzer", ("0_bruker_fagdata", "9_system_admin"))
    edition = f"/rest/v1/tjenesteeiere/{ids['eier']}/tjenester/{ids['tjenestekode']}/utgaver/{ids['utgavekode']}"
    for path in (edition, f"/rest/v1/konsumenter/{ids['konsument_id']}/kjøringer/{ids['kjoring_id']}",
                 f"/rest/v3/endringssett/{ids['endringssett_id']}", f"/rest/v1/lås/{ids['lock_id']}",
                 f"/rest/v3/binaer/{ids['binaer_id']}", f"/rest/v3/rettigheter/{ids['brukernavn']}",
                 f"/rest/v3/datakatalog/vegobjekttyper/{ids['type_id']}",
                 f"/rest/v3/vegobjekter/{ids['type_id']}/{ids['nvdb_id']}",
                 f"/rest/v3/vegnett/veglenkesekvenser/{ids['vls_id']}"):
        r = fuzzer.request("GET", path, headers={"Accept": "*/*"})
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
