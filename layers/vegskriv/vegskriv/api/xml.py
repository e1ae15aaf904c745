"""XML in and out: one mapping between NVDB's XML and the JSON documents the models read and write.

Routes see JSON only. A request body in XML is turned into the same JSON before Powertools validates
it against the route's model, and a JSON answer is turned into XML when the client asks for XML
(``Accept``, or else the request's ``Content-Type``), so both forms come from the same models.

The naming rules are NVDB's (``endringssett/oppbygging.md``, ``api-referanse.md``): identifying
scalars are attributes (``<vegobjekt typeId="83" tempId="kum#1">``, ``<punkt posisjon="0.3"/>``);
a list under a plural name is a wrapper of singular elements (``<egenskaper><egenskap>``); the
other lists are repeated elements (``<verdi>``, ``<punkt>``); an association target is an element
whose text is the value (``<tempId>kum#1</tempId>``). XML carries no number types: values come
back as text and the models read them by type (``verdi`` is read by the catalog's type).
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from vegskriv.errors import BadRequest

CHANGESET_NS = "http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3"
LOCK_NS = "http://nvdb.vegvesen.no/apiskriv/domain/lock/v1"
FAULT_NS = "http://nvdb.vegvesen.no/apiskriv/fault/v1"
TASK_NS = "http://nvdb.vegvesen.no/apiskriv/domain/task/v1"
TRANSACTION_NS = "http://nvdb.vegvesen.no/apiskriv/domain/transaction/v1"
MAX_DEPTH = 64  # as for JSON bodies (api/body.py)
XML_SPACE = " \t\r\n"  # what XML calls white space: around an element's text it is layout, not value
# What XML 1.0 cannot carry: control characters but tab, newline and return; an unpaired surrogate; U+FFFE/U+FFFF.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

ATTRIBUTES = frozenset({"typeId", "tempId", "nvdbId", "versjon", "veglenkesekvensNvdbId", "posisjon", "fra",
                        "til", "nodeNvdbId", "ressursId", "format", "rel", "src", "kode", "operasjon", "retning",
                        "sideposisjon", "id", "antallTotalt"})
WRAPPERS = {"vegobjekter": "vegobjekt", "egenskaper": "egenskap", "assosiasjoner": "assosiasjon",
            "ressurser": "ressurs", "feil": "feil", "advarsler": "advarsel", "notabener": "notabene",
            "låser": "lås", "vegobjekttyper": "vegobjekttype", "endringssett": "endringssett",
            "objekttyper": "objekttype", "objekter": "objekt", "blokkerendeLåser": "lås"}
REPEATED = frozenset({"verdi", "enum", "geometri", "medlem", "binaer", "binærobjekt", "punkt", "linje", "sving",
                      "tempId", "nvdbId", "kjørefelt"})
TARGETS = frozenset({"tempId", "nvdbId"})  # elements (not attributes) of these names are association targets
LIST_ROOTS = frozenset({"ressurser"})  # answers that are a list (the links of a changeset)
REPEATED_IN = {"lås": frozenset({"stedfesting"})}  # a lock's stedfesting is a list of stretches


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    # Stored text never has such a character (api/body.py refuses it); a fault's message may quote a path.
    return NOT_XML.sub("\ufffd", str(value))


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _fill(element: ET.Element, value: Any, ns: str) -> None:
    if isinstance(value, dict):
        if _scalar(value.get("verdi")) and set(value) <= ATTRIBUTES | {"verdi"}:  # <tempId operasjon="ny">x
            element.text = _text(value["verdi"])
            value = {k: v for k, v in value.items() if k != "verdi"}
        for key, item in value.items():
            _add(element, key, item, ns)
    elif value is not None:
        element.text = _text(value)


def _add(parent: ET.Element, key: str, value: Any, ns: str) -> None:
    if value is None:
        return
    if _scalar(value) and key in ATTRIBUTES and not (key in TARGETS and parent.tag.endswith("}assosiasjon")):
        parent.set(key, _text(value))
    elif isinstance(value, list):
        if key in WRAPPERS:
            wrapper = ET.SubElement(parent, f"{{{ns}}}{key}")
            for item in value:
                _fill(ET.SubElement(wrapper, f"{{{ns}}}{WRAPPERS[key]}"), item, ns)
        else:
            for item in value:
                _fill(ET.SubElement(parent, f"{{{ns}}}{key}"), item, ns)
    else:
        _fill(ET.SubElement(parent, f"{{{ns}}}{key}"), value, ns)


def to_xml(root: str, document: Any, ns: str = CHANGESET_NS) -> bytes:
    """A JSON document (dict, list or scalar) as NVDB's XML under ``root``."""
    ET.register_namespace("", ns)
    element = ET.Element(f"{{{ns}}}{root}")
    if isinstance(document, list):  # e.g. the links of a registered changeset: <ressurser><ressurs .../>
        for item in document:
            _fill(ET.SubElement(element, f"{{{ns}}}{WRAPPERS.get(root, root)}"), item, ns)
    else:
        _fill(element, document, ns)
    # A reader turns a raw carriage return into a newline (XML's line ends); as a reference it stays itself.
    # ElementTree escapes it in attributes only, so a raw one can only be in text.
    return ET.tostring(element, encoding="utf-8", xml_declaration=True).replace(b"\r", b"&#13;")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _read(element: ET.Element, root: str, depth: int, *, item: bool) -> Any:
    if depth > MAX_DEPTH:
        raise BadRequest(f"Ugyldig XML: nøstet mer enn {MAX_DEPTH} nivåer dypt")
    name = _local(element.tag)
    if name in WRAPPERS and not item and (depth > 0 or name in LIST_ROOTS):
        return [_read(child, root, depth + 1, item=True) for child in element]
    data: dict[str, Any] = dict(element.attrib)
    children = list(element)
    text = (element.text or "").strip(XML_SPACE)  # a no-break space or U+0085 is part of a value
    if not children:
        if name in TARGETS and depth > 0:
            return {"verdi": text, **data}
        if not data:
            return text if text or depth > 0 else {}  # an empty document is an empty object
        if text:
            data["verdi"] = text
        return data
    repeated = REPEATED | REPEATED_IN.get(root, frozenset())
    for child in children:
        key = _local(child.tag)
        value = _read(child, root, depth + 1, item=False)
        if key in repeated:
            data.setdefault(key, []).append(value)
        elif key in data:
            raise BadRequest(f"Ugyldig XML: {name}.{key} er angitt mer enn én gang")
        else:
            data[key] = value
    return data


def from_xml(body: str | bytes) -> Any:
    """NVDB's XML as the JSON document the models read; BadRequest names what is wrong."""
    # Bytes go to the parser as bytes: it reads the encoding their XML declaration names (UTF-8 if none)
    # and refuses bytes not in it, instead of U+FFFD replacing them. Text is already decoded.
    if isinstance(body, bytes):
        if body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]:  # UTF-16/32 would hide the markers
            raise BadRequest("Ugyldig XML: send XML i UTF-8 eller ISO-8859-1")
        hostile = b"<!DOCTYPE" in body or b"<!ENTITY" in body
    else:
        hostile = "<!DOCTYPE" in body or "<!ENTITY" in body
    if hostile:  # entities are how XML bombs are made; NVDB needs none
        raise BadRequest("Ugyldig XML: DOCTYPE og ENTITY er ikke tillatt")
    try:
        element = ET.fromstring(body)
    except (ET.ParseError, LookupError, ValueError) as exc:  # the last two: a declared encoding Python lacks
        raise BadRequest(f"Ugyldig XML: {exc}") from exc
    return _read(element, _local(element.tag), 0, item=False)


def fault(message: str) -> bytes:
    """An error body as NVDB writes it in XML (feilhaandtering.md)."""
    return to_xml("fault", {"message": message}, FAULT_NS)


# --- content negotiation (called by api/app.handle around the resolver) ----------------------

XML_MEDIA = ("application/xml", "text/xml")
SENT_AS_XML = "vegskrivSentAsXml"  # marks the event: its JSON body was converted from XML
JSON_MEDIA = "application/json"


def _is_xml(media: str) -> bool:
    return media in XML_MEDIA or media.endswith("+xml")


def _is_json(media: str) -> bool:
    return media == JSON_MEDIA or media.endswith("+json")


def _header(event: dict[str, Any], name: str) -> tuple[str | None, str]:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name.lower():
            return key, value or ""
    return None, ""


def _media(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


def accepted(event: dict[str, Any]) -> list[str]:
    """The media types of ``Accept``, most wanted first (q=0 dropped)."""
    _, value = _header(event, "Accept")
    ranked = []
    for index, part in enumerate(p for p in value.split(",") if p.strip()):
        quality = 1.0
        for param in part.split(";")[1:]:
            name, _, number = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(number)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, _media(part)))
    return [media for _, _, media in sorted(ranked)]


def read_xml_request(event: dict[str, Any]) -> bool:
    """An XML body becomes the JSON the routes read (BadRequest if it is not XML); True if it was XML."""
    name, value = _header(event, "Content-Type")
    if name is None or not _is_xml(_media(value)) or "/rest/v3/binaer" in (event.get("path") or ""):
        return False  # an uploaded XML file is binary data, kept byte for byte
    body = event.get("body")
    if body:
        if event.get("isBase64Encoded"):
            body = base64.b64decode(body)
            event["isBase64Encoded"] = False
        event["body"] = json.dumps(from_xml(body), ensure_ascii=False)
    event["headers"][name] = JSON_MEDIA
    event[SENT_AS_XML] = True
    return True


def _root(method: str, path: str) -> tuple[str, str] | None:
    """The root element and namespace of an answer in XML, or None where the API answers JSON only."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] == ["rest", "v1"] and len(parts) >= 3 and parts[2] == "lås":
        return ("låsliste" if len(parts) == 3 and method == "GET" else "lås"), LOCK_NS
    if parts[:3] == ["rest", "v1", "oppdrag"]:
        return ("oppdragliste" if len(parts) == 3 else "oppdrag"), TASK_NS
    if parts[:3] == ["rest", "v1", "transaksjon"]:
        return "transaksjoner", TRANSACTION_NS
    if parts[:3] != ["rest", "v3", "endringssett"]:
        return None
    if len(parts) == 3:
        return ("endringssettliste" if method == "GET" else "ressurser"), CHANGESET_NS
    last = parts[-1]
    if last in ("status", "validator"):
        return "status", CHANGESET_NS
    if last in ("fremdrift", "fremdriftOgÅrsak"):
        return "fremdrift", CHANGESET_NS
    if last in ("start", "kanseller", "restart", "registrer"):  # registrer: opplasting/{id}/registrer
        return "ressurser", CHANGESET_NS
    return "endringssett", CHANGESET_NS


def _content_type(response: dict[str, Any]) -> str:
    for source in (response.get("headers") or {}, response.get("multiValueHeaders") or {}):
        for key, value in source.items():
            if key.lower() == "content-type":
                return _media(value[0] if isinstance(value, list) else value)
    return ""


def _set_body(response: dict[str, Any], media: str, body: bytes) -> dict[str, Any]:
    for source in ("headers", "multiValueHeaders"):
        for key in [k for k in (response.get(source) or {}) if k.lower() == "content-type"]:
            del response[source][key]
    response.setdefault("headers", {})["Content-Type"] = f"{media}; charset=UTF-8"
    response["body"] = body.decode("utf-8")
    response["isBase64Encoded"] = False
    return response


def negotiate(event: dict[str, Any], response: dict[str, Any], sent_xml: bool) -> dict[str, Any]:
    """The answer in the type the client accepts: XML if it asks for it (or sent XML and asks for
    nothing in particular), else as produced; 406 if it accepts neither."""
    wanted = accepted(event)
    produced = _content_type(response)
    any_type = ("*/*", "application/*")
    first = next((m for m in wanted if _is_xml(m) or _is_json(m) or m in (*any_type, produced)), None)
    root = _root(event.get("httpMethod") or "GET", event.get("path") or "")
    json_ok = not wanted or any(_is_json(m) or m in (*any_type, produced) for m in wanted)
    if wanted and (first is None or (root is None and not json_ok)):
        body = {"message": f"Accept {', '.join(wanted)} kan ikke leveres her; bruk application/json"
                           + (" eller application/xml" if root else "")}
        return {"statusCode": 406, "headers": {"Content-Type": f"{JSON_MEDIA}; charset=UTF-8"},
                "body": json.dumps(body, ensure_ascii=False), "isBase64Encoded": False}
    as_xml = (first is not None and _is_xml(first)) or (sent_xml and (first is None or first in any_type))
    if not as_xml or not _is_json(produced):
        return response
    try:
        document = json.loads(response.get("body") or "null")
    except ValueError:
        return response
    if int(response.get("statusCode", 200)) >= 400:
        message = document.get("message") if isinstance(document, dict) else None
        return _set_body(response, XML_MEDIA[0], fault(str(message)))
    if root is None:
        return response
    return _set_body(response, XML_MEDIA[0], to_xml(root[0], document, root[1]))
