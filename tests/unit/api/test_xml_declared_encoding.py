"""An XML body given as bytes (API Gateway's base64 for application/xml, an upload) goes to the
parser as bytes, which reads the encoding its declaration names. A declaration naming an encoding
Python cannot use raises LookupError/ValueError/UnicodeError, not ParseError: it escapes from_xml
(and the api's handler, which catches VegskrivError only) instead of answering 400."""

from __future__ import annotations

import base64
import contextlib

import pytest

from vegskriv.api import upload, xml
from vegskriv.errors import BadRequest

NS = "http://nvdb.vegvesen.no/apiskriv/domain/changeset/v3"


@pytest.mark.parametrize("encoding", ["foo", "utf-32", "rot13", "idna"])
def test_xml_declaring_an_unusable_encoding_is_read_or_a_bad_request_never_another_error(encoding: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><endringssett xmlns="{NS}"/>'.encode("ascii")
    event = {"httpMethod": "POST", "path": "/rest/v3/endringssett", "isBase64Encoded": True,
             "headers": {"Content-Type": "application/xml"}, "body": base64.b64encode(body).decode()}
    with contextlib.suppress(BadRequest):  # 400 is fine; LookupError & co. are a 5xx
        xml.read_xml_request(event)  # a direct register, as API Gateway hands it over (BinaryMediaTypes)
    with contextlib.suppress(BadRequest):
        upload._parsed(body)  # the same document registered from an upload
