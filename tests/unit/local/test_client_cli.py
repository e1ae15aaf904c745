"""The `vegskriv` command line: each command offers the options that mean something to it."""

from __future__ import annotations

import pytest

from vegskriv.local.cli import build_parser
from vegskriv.local.client_cli import GZIP_FROM_BYTES


@pytest.mark.parametrize("command", ["send", "valider"])
def test_the_commands_that_send_a_changeset_take_gzip(command: str) -> None:
    assert build_parser().parse_args([command, "x.json", "--gzip"]).gzip_from == 0
    assert build_parser().parse_args([command, "x.json"]).gzip_from == GZIP_FROM_BYTES


@pytest.mark.parametrize("argv", [["provisjoner", "--konsument", "k1"], ["status", "id"], ["endringssett"]])
def test_the_others_neither_offer_nor_take_gzip(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert build_parser().parse_args(argv).gzip_from == GZIP_FROM_BYTES  # what the client is made with
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv[:1], "--help"])
    assert "--gzip" not in capsys.readouterr().out
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "--gzip"])
