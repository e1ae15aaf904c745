"""The XML schema of a model, made by the naming rules of :mod:`vegskriv.api.xml` from the same models.

``python -m vegskriv.api.xsd`` writes ``data/endringssett.xsd`` and ``data/status.xsd`` (shipped, and
a test checks that they match the models). Elements come in the models' field order, which is the
order :func:`vegskriv.api.xml.to_xml` writes a model dump in; fields the models keep as they are
given (``låsing``, a fetched changeset's ``status``) are open content. Extra geometry fields that the
models accept beyond NVDB's documented ones are not in the schema.
"""

from __future__ import annotations

import sys
import types
import typing
import xml.etree.ElementTree as ET
from datetime import date
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vegskriv.api.xml import ATTRIBUTES, CHANGESET_NS, TARGETS, WRAPPERS

XS = "http://www.w3.org/2001/XMLSchema"
DATA = Path(__file__).resolve().parent.parent / "data"


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the type inside Optional/Annotated, whether None is allowed)."""
    optional = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(typing.get_args(annotation))
            if len(args) == 1:
                annotation = args[0]
            else:
                return str, optional  # a union of scalars (verdi) is text in XML
        else:
            return annotation, optional


def _simple(annotation: Any) -> str:
    if annotation is bool:
        return "xs:string"  # true/false, JA/NEI
    if isinstance(annotation, type) and issubclass(annotation, int) and not issubclass(annotation, Enum):
        return "xs:long"
    if annotation is float:
        return "xs:double"
    if annotation is date:
        return "xs:date"
    return "xs:string"  # str, datetime (NVDB writes it without offset), Literal, enums


class _Schema:
    def __init__(self) -> None:
        self.root = ET.Element(f"{{{XS}}}schema", {"targetNamespace": CHANGESET_NS,
                                                   "elementFormDefault": "qualified"})
        self.done: set[str] = set()

    def open_content(self, element: ET.Element) -> None:
        kind = ET.SubElement(element, f"{{{XS}}}complexType", {"mixed": "true"})
        seq = ET.SubElement(kind, f"{{{XS}}}sequence")
        ET.SubElement(seq, f"{{{XS}}}any", {"processContents": "skip", "minOccurs": "0", "maxOccurs": "unbounded"})
        ET.SubElement(kind, f"{{{XS}}}anyAttribute", {"processContents": "skip"})

    def type_of(self, model: type[BaseModel], *, target: bool = False) -> str:
        name = "".join(c if c.isalnum() else "_" for c in model.__name__).strip("_")
        if name in self.done:
            return f"tns:{name}"
        self.done.add(name)
        kind = ET.SubElement(self.root, f"{{{XS}}}complexType", {"name": name})
        seq = ET.SubElement(kind, f"{{{XS}}}sequence")
        attributes = []
        for field_name, field in model.model_fields.items():
            key = field.alias or field_name
            annotation, optional = _unwrap(field.annotation)
            required = field.is_required() and not optional
            if typing.get_origin(annotation) is list:
                item, _ = _unwrap(typing.get_args(annotation)[0])
                holder = seq
                if key in WRAPPERS:
                    wrap = ET.SubElement(seq, f"{{{XS}}}element", {"name": key, "minOccurs": "0"})
                    holder = ET.SubElement(ET.SubElement(wrap, f"{{{XS}}}complexType"), f"{{{XS}}}sequence")
                    key = WRAPPERS[key]
                self.element(holder, key, item, min_occurs="0", max_occurs="unbounded")
            elif key in ATTRIBUTES and not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
                attributes.append({"name": key, "type": _simple(annotation),
                                   **({"use": "required"} if required else {})})
            else:
                self.element(seq, key, annotation, min_occurs="1" if required else "0")
        for attribute in attributes:
            ET.SubElement(kind, f"{{{XS}}}attribute", attribute)
        return f"tns:{name}"

    def element(self, parent: ET.Element, key: str, annotation: Any, *, min_occurs: str,
                max_occurs: str = "1") -> None:
        element = ET.SubElement(parent, f"{{{XS}}}element", {"name": key, "minOccurs": min_occurs,
                                                             "maxOccurs": max_occurs})
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if key in TARGETS and set(annotation.model_fields) == {"verdi", "operasjon"}:
                ext = ET.SubElement(ET.SubElement(ET.SubElement(element, f"{{{XS}}}complexType"),
                                                  f"{{{XS}}}simpleContent"), f"{{{XS}}}extension",
                                    {"base": "xs:string"})
                ET.SubElement(ext, f"{{{XS}}}attribute", {"name": "operasjon", "type": "xs:string"})
            else:
                element.set("type", self.type_of(annotation))
        elif annotation is Any or typing.get_origin(annotation) is dict:
            self.open_content(element)
        else:
            element.set("type", _simple(annotation))


def schema(root: str, model: type[BaseModel]) -> bytes:
    """An XSD with ``root`` of the type of ``model``, in NVDB's changeset namespace."""
    ET.register_namespace("xs", XS)
    built = _Schema()
    built.root.set("xmlns:tns", CHANGESET_NS)
    ET.SubElement(built.root, f"{{{XS}}}element", {"name": root, "type": built.type_of(model)})
    ET.indent(built.root)
    return ET.tostring(built.root, encoding="utf-8", xml_declaration=True) + b"\n"


def shipped() -> dict[str, bytes]:
    from vegskriv.changesets.models import Endringssett, Status

    return {"endringssett.xsd": schema("endringssett", Endringssett), "status.xsd": schema("status", Status)}


if __name__ == "__main__":
    for file_name, text in shipped().items():
        (DATA / file_name).write_bytes(text)
        sys.stdout.write(f"wrote {DATA / file_name}\n")
