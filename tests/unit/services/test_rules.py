"""The master rules' pure parts: completeness, the derived-edition patch rule, attachment-type merging, the diff."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vegskriv.errors import Conflict
from vegskriv.services import rules
from vegskriv.services.models import Definisjon, Oversendingsmetode, Skjema, Vedleggstype

COMPLETE = Definisjon(navn="Kum", skjema=Skjema(vegobjekttyper=[83], operasjoner=["registrer"],
                                                påkrevdeEgenskaper={83: [1141]}, datakatalogversjon="2.38"),
                      vedleggstyper=[Vedleggstype(navn="Foto", maksAntall=2)])


def test_a_complete_definition_has_no_problems() -> None:
    assert rules.incomplete(COMPLETE) == []


def test_incomplete_names_each_missing_part() -> None:
    bare = Definisjon(navn="Kum", skjema=Skjema(påkrevdeEgenskaper={95: [1]}))
    problems = rules.incomplete(bare)
    assert len(problems) == 4 and any("[95]" in p for p in problems)


@pytest.mark.parametrize("fields, refused", [({"oversendingsmetode", "gyldighetsperiode"}, False),
                                             ({"navn"}, True), ({"skjema", "utgavekode"}, True)])
def test_a_derived_edition_changes_only_its_own_settings(fields: set[str], refused: bool) -> None:
    if refused:
        with pytest.raises(Conflict, match=r"^Regel 3 \("):
            rules.check_derived_patch(fields)
    else:
        rules.check_derived_patch(fields)


def test_the_using_owners_attachment_type_wins() -> None:
    own = Vedleggstype(navn="FOTO", filtyper=["pdf"], maksAntall=9)
    merged, warnings = rules.merge_attachment_types(COMPLETE, "SVV", "TFK", {"foto": own})
    assert merged.vedleggstyper == [own] and len(warnings) == 1 and "TFK" in warnings[0]
    assert rules.merge_attachment_types(COMPLETE, "SVV", "TFK", {}) == (COMPLETE, [])


def test_diff_lists_changed_fields_by_path() -> None:
    after = COMPLETE.model_copy(update={"navn": "Kum 2", "vedleggstyper": [Vedleggstype(navn="Foto", maksAntall=3)]})
    assert rules.diff(COMPLETE, after) == [
        {"felt": "navn", "migrertVerdi": "Kum", "gjeldendeVerdi": "Kum 2"},
        {"felt": "vedleggstyper.Foto.maksAntall", "migrertVerdi": 2, "gjeldendeVerdi": 3}]
    assert rules.diff(COMPLETE, COMPLETE) == []


@pytest.mark.parametrize("body", [{"type": "PUSH"}, {"type": "PUSH", "url": "http://x.example"},
                                  {"type": "NEDLASTINGSKØ", "url": "https://x.example"}])
def test_transfer_method_push_needs_an_https_url(body: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        Oversendingsmetode.model_validate(body)
