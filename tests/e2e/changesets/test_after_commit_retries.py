"""Failures after the commit write are retried after growing pauses too."""

from __future__ import annotations

import itertools
import time

import pytest

from tests.support.client import changeset, kum
from vegskriv.local.stack import LocalStack
from vegskriv.store import locks as lock_store
from vegskriv.store import objects

pytestmark = pytest.mark.e2e
OUTAGE_SECONDS = 8


@pytest.fixture(scope="module")
def stack():
    # MAX_SYSTEM_FAILURES as deployed (10): pauses of 1, 2, 4, 8 ... s outlast an outage of 8 s.
    with LocalStack(port=0, env={"WAIT_FIRST_SECONDS": "1", "POWERTOOLS_LOG_LEVEL": "CRITICAL"}) as running:
        yield running


def test_a_short_outage_after_the_commit_is_waited_out_not_given_up_on(olanor, monkeypatch):
    real_fold, calls = objects.fold_overlays, []

    def fold_during_an_outage(changeset_id, keys, **kwargs):
        calls.append(time.monotonic())
        if calls[-1] - calls[0] < OUTAGE_SECONDS:
            raise RuntimeError("simulated outage in releaseLocks")
        return real_fold(changeset_id, keys, **kwargs)

    monkeypatch.setattr(objects, "fold_overlays", fold_during_an_outage)
    changeset_id = olanor.register(changeset(registrer=[kum("after-commit")]))
    olanor.start(changeset_id)
    state = olanor.wait(changeset_id, until={"UTFØRT_OG_ETTERBEHANDLET"}, timeout=40)
    gaps = [round(b - a, 2) for a, b in itertools.pairwise(calls)]
    # Before: the park after a failure woke at once when fremdrift was UTFØRT (park: fremdrift != VENTER),
    # so all 10 attempts ran within the outage; the changeset was given up, UTFØRT and holding its locks.
    assert state == "UTFØRT_OG_ETTERBEHANDLET", (state, len(calls), gaps)
    assert lock_store.get(changeset_id) is None
