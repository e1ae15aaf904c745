"""The JSON body helper: hostile nesting and numbers are a 400 naming the problem, never a crash."""

from __future__ import annotations

import pytest

from vegskriv.api.body import MAX_DEPTH, loads
from vegskriv.errors import BadRequest


@pytest.mark.parametrize(("text", "problem"), [
    ("[" * 10_000 + "]" * 10_000, "nøstet 10000 nivåer"),
    ('{"a": ' * 5_000 + "1" + "}" * 5_000, "nøstet 5000 nivåer"),
    ("[" * 10_000, "nøstet"),  # unclosed: refused before json recurses into it
    ('{"verdi": ' + "7" * 5_000 + "}", "heltallet 777777777777… (5000 tegn)"),
    ('{"verdi": -' + "7" * 5_000 + "}", "heltallet"),
    (str(10**400), "heltallet 100000000000… (401 tegn)"),
    (str(2**63), "heltallet 9223372036854775808 er større"),
    ("[1e400]", "tallet 1e400"),
    ("[-1e400]", "tallet -1e400"),
    ("[0." + "1" * 5_000 + "]", "tallet 0.1111111111…"),
    ("[NaN]", "NaN er ikke et JSON-tall"),
    ("[Infinity]", "Infinity"),
    ("[1,", "linje 1, kolonne 4"),
    ('{"verdi": ["a\\u0001"]}', "tegnet U+0001 i verdi[0]"),  # XML cannot carry it
    ('{"a": {"b": "\\ud800"}}', "tegnet U+D800 i a.b"),  # an unpaired surrogate: no UTF-8 either
    ('{"a": "\\uFFFF"}', "U+FFFF"),
])
def test_refused_with_a_message_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(BadRequest, match=r"^Ugyldig JSON: ") as refused:
        loads(text)
    assert problem in refused.value.message


def test_ordinary_documents_and_the_edges_pass() -> None:
    assert loads('{"a": [1, -2, 0.5, 1e300, "x"]}') == {"a": [1, -2, 0.5, 1e300, "x"]}
    assert loads('["tab\\there\\r\\n", "\\ud83d\\ude00", "\\\\u0001"]') == ["tab\there\r\n", "😀", "\\u0001"]
    assert loads(f"[{2**63 - 1}, {-(2**63 - 1)}]") == [2**63 - 1, -(2**63 - 1)]
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(BadRequest):
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_brackets_and_escaped_quotes_inside_strings_do_not_count() -> None:
    text = '{"a": "' + "[" * 5_000 + '\\"' + "{" * 5_000 + '", "b": ["]]]]"]}'
    assert loads(text)["b"] == ["]]]]"]
    # A closing bracket inside a string must not hide real depth either.
    hidden = "[" * 100 + '"' + "]" * 100 + '"' + "]" * 100
    with pytest.raises(BadRequest, match="nøstet 100"):
        loads(hidden)
