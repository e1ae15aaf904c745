"""Where vegskriv may send data: https anywhere, plain http only to this machine."""

import pytest

from vegskriv import outbound


@pytest.mark.parametrize(("url", "ok"), [
    ("https://kopi.example.org/api", True),
    ("http://127.0.0.1:3200", True),
    ("http://localhost/kopi", True),
    ("http://kopi.example.org", False),
    ("http://127.0.0.1.example.org", False),  # a name that starts like the loopback address
    ("http://10.0.0.7", False),
    ("ftp://127.0.0.1", False),
    ("", False),
])
def test_https_anywhere_and_http_only_to_this_machine(url: str, ok: bool) -> None:
    assert outbound.allowed(url) is ok
