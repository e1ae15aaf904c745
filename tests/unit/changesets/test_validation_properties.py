"""Properties of validation and effectuation over generated changesets (Hypothesis, no AWS).

Every changeset the document model accepts, against any stored data: validation answers (never
raises), with one result per object in the document's order, and the result can be stored; and a
changeset it finds no error in can be planned into writes (the workflow's effectuate step), one
result per object, leaving every object's history without gaps or overlaps. A crash in either would
leave a client with an internal error instead of a code.
"""

from __future__ import annotations

from itertools import pairwise

from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.support.strategies import CATALOG, NETWORK, changesets, clean_changesets, history_after, stored
from vegskriv.changesets.models import Endringssett
from vegskriv.changesets.operations import plan_changeset
from vegskriv.changesets.validation import Context, validate


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_validation_answers_every_document_and_what_it_accepts_can_be_planned(data: st.DataObject) -> None:
    existing = data.draw(stored())
    try:
        doc = Endringssett.model_validate(data.draw(st.one_of(changesets(existing), clean_changesets(existing))))
    except ValidationError:
        event("not a document")
        assume(False)
        return
    on_sequence: dict[tuple[int, int], list[int]] = {}
    for nvdb_id, versions in existing.items():
        for kind in (versions[-1]["stedfesting"] or {}).values():
            for element in kind:
                on_sequence.setdefault((versions[-1]["typeId"], element["veglenkesekvensNvdbId"]), []).append(nvdb_id)
    context = Context(catalog=CATALOG, current_catalog_version="2.38", network=NETWORK, existing=existing,
                      on_sequence=on_sequence)

    result = validate(doc, context)

    objects = [(op, o) for op, group in doc.operations() for o in group]
    assert [(e.operasjon, e.typeId) for e in result.vegobjekter] == [(op, o.typeId) for op, o in objects]
    assert all(v.kode and v.melding for e in result.vegobjekter for v in (*e.feil, *e.advarsler))
    result.model_dump_json()  # what the workflow stores
    accepted = not result.feil and not any(e.feil for e in result.vegobjekter)
    event("accepted" if accepted else "refused")  # pytest --hypothesis-show-statistics: both must occur
    if accepted:
        plan = plan_changeset(doc, existing, 1_000_000, "cs", "2026-12-05T00:00:00Z", CATALOG)
        assert [(r.operasjon, r.typeId) for r in plan.results] == [(op, o.typeId) for op, o in objects]
        for nvdb_id, versions in history_after(existing, plan.writes).items():
            periods = [(v["gyldighetsperiode"]["startdato"], v["gyldighetsperiode"].get("sluttdato")) for v in versions]
            assert all(end is None or start < end for start, end in periods), (nvdb_id, periods)
            assert all(a[1] == b[0] for a, b in pairwise(periods)), (nvdb_id, periods)

