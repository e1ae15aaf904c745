"""XML as NVDB's clients send it, over generated changesets (Hypothesis): any document the model
accepts reads back from its XML as the same document, and an answer in XML is well-formed XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tests.support.strategies import changesets, clean_changesets, stored
from vegskriv.api import xml
from vegskriv.changesets.models import Endringssett

VALUES = ("verdi", "enum", "geometri", "medlem", "binaer", "binærobjekt")


def as_text(node: Any) -> Any:
    """The document as XML can carry it: a number in ``verdi`` as its digits, no empty list of values
    (XML has no element for one; validation reads it as no value, too), only characters XML 1.0
    allows (the API refuses the others, api/body.py), and no white space around a value (in XML it is
    layout)."""
    if isinstance(node, dict):
        values = node.get("verdi")
        if isinstance(values, list):
            node = {**node, "verdi": [v if isinstance(v, str) else json.dumps(v) for v in values]}
        return {k: as_text(v) for k, v in node.items() if not (k in VALUES and v == [])}
    if isinstance(node, list):
        return [as_text(item) for item in node]
    return xml.NOT_XML.sub("", node).strip(xml.XML_SPACE) if isinstance(node, str) else node


def _json(doc: Endringssett) -> dict[str, Any]:
    return doc.model_dump(mode="json", by_alias=True, exclude_none=True)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_document_reads_back_from_its_xml(data: st.DataObject) -> None:
    existing = data.draw(stored())
    try:
        doc = Endringssett.model_validate(as_text(data.draw(st.one_of(changesets(existing),
                                                                       clean_changesets(existing)))))
    except ValidationError:
        assume(False)
        return
    document = _json(doc)
    text = xml.to_xml("endringssett", document)
    assert _json(Endringssett.model_validate(xml.from_xml(text))) == document


@given(st.text(max_size=20))
def test_an_answer_in_xml_is_well_formed_whatever_text_it_carries(message: str) -> None:
    parsed = ET.fromstring(xml.fault(message))
    assert parsed.tag == f"{{{xml.FAULT_NS}}}fault"
