"""The one way a JSON body is read: size, nesting depth and number size are bounded before anything
is parsed into models, so hostile JSON answers 400 (or 413), never 500 and is never stored.
:func:`json_body` is the resolver's ``json_body_deserializer``: Powertools calls it once per request
(the event caches the result) before it validates the body against the route's model.

Python's json recurses per nesting level (RecursionError past ~1,000) and refuses integers over
4,300 digits with a bare ValueError; a 10**400 that gets through is stored as is. Hence a depth
pre-scan and number hooks that refuse what no field of this API needs.

:func:`unpack` runs first, on the raw event: ``MAX_BODY_BYTES`` bounds what was sent (compressed,
if ``Content-Encoding: gzip``), ``MAX_BODY_UNPACKED_BYTES`` what a gzip body unpacks to; it reads
at most one byte past that bound, so a zip bomb costs that much memory and answers 413.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import math
import operator
import re
import zlib
from itertools import accumulate, count
from typing import Any

from vegskriv.api.xml import NOT_XML
from vegskriv.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from vegskriv.settings import get_settings

MAX_DEPTH = 64  # a changeset needs about 7 levels, the NVDB API Les catalog about 10
MAX_INT = 2**63 - 1  # int64: what every id and count here fits in (DynamoDB keeps 38 digits)
MAX_NUMBER_CHARS = 40  # a double needs at most 24 ("-1.2345678901234567e-308")

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")  # +1 / -1, shifted by one to stay a byte


class _Refused(Exception):
    pass


def _depth(text: str) -> int:
    """Deepest bracket nesting outside strings (what json.loads would recurse to)."""
    steps = _NOT_BRACKET.sub("", _STRING.sub("", text)).encode().translate(_STEP)
    # Depth after i brackets = (sum of shifted steps) - i; kept in C for a 6 MB body.
    return max(map(operator.sub, accumulate(steps), count(1)), default=0)


def _short(text: str) -> str:
    return text if len(text) <= 20 else f"{text[:12]}… ({len(text)} tegn)"


def _int(text: str) -> int:
    # The length is checked first: converting 5,000 digits is itself what fails.
    value = int(text) if len(text) <= MAX_NUMBER_CHARS else MAX_INT + 1
    if abs(value) > MAX_INT:
        raise _Refused(f"heltallet {_short(text)} er større enn {MAX_INT}")
    return value


def _float(text: str) -> float:
    value = float(text) if len(text) <= MAX_NUMBER_CHARS else math.inf
    if not math.isfinite(value):
        raise _Refused(f"tallet {_short(text)} er for stort eller for langt")
    return value


def _constant(text: str) -> Any:
    raise _Refused(f"{text} er ikke et JSON-tall")


# Characters XML cannot carry come only as \u escapes (answers go out as NVDB's XML too, and stored
# text as UTF-8, which has no unpaired surrogate): most bodies have none, and are not walked.
_MAYBE_NOT_XML = re.compile(r"\\u(?:000[0-8bBcCeEfF]|001[0-9a-fA-F]|[dD][89a-fA-F]|[fF]{3}[eEfF])")


def _refuse_characters(value: Any) -> None:
    """BadRequest naming the first string (value or key) with a character XML cannot carry."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if (bad := NOT_XML.search(item)) is not None:
                where = f" i {path.lstrip('.')}" if path else ""
                raise BadRequest(f"Ugyldig JSON: tegnet U+{ord(bad.group()):04X}{where} kan ikke sendes (XML "
                                 "kan ikke bære det); fjern det")
        elif isinstance(item, dict):
            stack.extend((k, f"{path}.{k}") for k in item)
            stack.extend((v, f"{path}.{k}") for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))


def loads(text: str | bytes) -> Any:
    """json.loads with bounded depth and numbers, and only characters XML can carry; BadRequest names
    what was refused."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if (depth := _depth(text)) > MAX_DEPTH:
        raise BadRequest(f"Ugyldig JSON: nøstet {depth} nivåer dypt; høyst {MAX_DEPTH} er tillatt")
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
        if _MAYBE_NOT_XML.search(text):
            _refuse_characters(value)
        return value
    except json.JSONDecodeError as exc:
        raise BadRequest(f"Ugyldig JSON: {exc.msg} (linje {exc.lineno}, kolonne {exc.colno})") from exc
    except _Refused as exc:
        raise BadRequest(f"Ugyldig JSON: {exc}") from exc


def gunzip(raw: bytes, limit: int) -> bytes:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unpacked:
            text = unpacked.read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise BadRequest(f"Ugyldig gzip i forespørselen: {exc}") from exc
    if len(text) > limit:
        raise PayloadTooLarge(f"Forespørselen pakker ut til mer enn grensen på {limit} byte "
                              "(MAX_BODY_UNPACKED_BYTES); del den opp")
    return text


def unpack(event: dict[str, Any]) -> None:
    """Bound the body as sent, and replace a gzip body by the text it holds (413 past the limits)."""
    body = event.get("body")
    if not body:
        return
    settings = get_settings()
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    if len(raw) > settings.max_body_bytes:
        raise PayloadTooLarge(f"Forespørselen er større enn grensen på {settings.max_body_bytes} byte "
                              "(MAX_BODY_BYTES); send den gzip-komprimert eller del den opp")
    headers = event.get("headers") or {}
    name = next((k for k in headers if k.lower() == "content-encoding"), None)
    encoding = (headers.get(name) or "").strip().lower() if name else ""
    if encoding in ("", "identity"):
        if event.get("isBase64Encoded"):  # a binary media type (template.yaml): text again if it is text
            _as_text(event, raw)
        return
    if encoding not in ("gzip", "x-gzip"):
        raise UnsupportedMediaType(f"Content-Encoding {headers[name]} støttes ikke; send gzip eller ukomprimert")
    _as_text(event, gunzip(raw, settings.max_body_unpacked_bytes))
    # Unpacked once: nothing after this (XML reader, Powertools) sees the encoding again.
    del headers[name]
    for other in [k for k in event.get("multiValueHeaders") or {} if k.lower() == "content-encoding"]:
        del event["multiValueHeaders"][other]


def _as_text(event: dict[str, Any], raw: bytes) -> None:
    """The body as text when it is UTF-8, else kept as bytes (base64) for a binary route. JSON must be
    UTF-8 (RFC 8259): refused here, before a reader would fail on it or replace what it cannot read."""
    try:
        event["body"], event["isBase64Encoded"] = raw.decode("utf-8"), False
    except UnicodeDecodeError as exc:
        headers = event.get("headers") or {}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None) or ""
        if not content_type.strip() or "json" in content_type.split(";", 1)[0].lower():
            raise BadRequest(f"Ugyldig JSON: kroppen er ikke UTF-8 (byte {exc.start}); send JSON som UTF-8") from exc
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode("ascii"), True


def json_body(body: str | bytes) -> Any:
    """The request body parsed by :func:`loads` (its size was bounded by :func:`unpack`)."""
    return loads(body)
