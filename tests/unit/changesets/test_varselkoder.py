"""docs/varselkoder.md against the code: every code marked emitted is emitted by the package and
raised in a test; every code marked not emitted is absent from the package."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _table() -> dict[str, bool]:
    rows = re.findall(r"^\| ([A-ZÆØÅ_0-9]+) \| (ja|nei) \|", (ROOT / "docs/varselkoder.md").read_text(), re.MULTILINE)
    return {kode: utstedt == "ja" for kode, utstedt in rows}


def _literals(folder: str) -> str:
    return "\n".join(p.read_text() for p in (ROOT / folder).rglob("*.py"))


def test_the_table_lists_the_94_documented_codes():
    assert len(_table()) == 94


def test_emitted_codes_are_in_the_package_and_in_the_tests():
    source, tests = _literals("layers/vegskriv/vegskriv"), _literals("tests")
    emitted = [k for k, ja in _table().items() if ja]
    assert [k for k in emitted if f'"{k}"' not in source] == []
    assert [k for k in emitted if f'"{k}"' not in tests] == []
    assert len(emitted) >= 85


def test_codes_marked_not_emitted_are_not_in_the_package():
    source = _literals("layers/vegskriv/vegskriv")
    assert [k for k, ja in _table().items() if not ja and f'"{k}"' in source] == []
