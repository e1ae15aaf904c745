"""The layer as `sam build` makes it (layers/vegskriv/Makefile, BuildMethod: makefile) carries bytecode
that Python 3.12 uses without reading the sources: Lambda's file system is read-only, so a module
without a usable .pyc is compiled again at every cold start (docs/benchmarks.md, cold start)."""

from __future__ import annotations

import marshal
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.rehearsal import rehearsal_module

ROOT = Path(__file__).resolve().parents[2]


def _python312() -> str:
    rehearsal = rehearsal_module()
    try:
        return str(rehearsal.find_python312())
    except rehearsal.RehearsalError as exc:
        pytest.skip(str(exc))


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_the_built_layer_is_imported_from_its_bytecode_alone(tmp_path: Path) -> None:
    python = _python312()
    # The package and its bytecode, as the build makes them (the dependencies step needs pip's index).
    subprocess.run(["make", "-s", "-C", str(ROOT / "layers" / "vegskriv"), "package", "bytecode",
                    f"ARTIFACTS_DIR={tmp_path}", f"PYTHON={python}"], check=True, capture_output=True)
    site = tmp_path / "python"
    assert not list(site.rglob("*.cpython-311.pyc"))  # nothing of the dev venv's came along
    with (site / "vegskriv" / "__pycache__" / "errors.cpython-312.pyc").open("rb") as pyc:
        pyc.read(16)  # the header
        assert marshal.load(pyc).co_filename == "/opt/python/vegskriv/errors.py"  # where Lambda mounts it
    # A source that fails if it is read, and the times a zip gives the files (a .pyc checked against
    # its source's time would be stale, and Python would compile the source).
    (site / "vegskriv" / "errors.py").write_text("raise SystemExit('compiled from source')\n", encoding="utf-8")
    for path in site.rglob("*.py"):
        os.utime(path, (1_600_000_001, 1_600_000_001))
    out = subprocess.run([python, "-I", "-S", "-B", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                          "import vegskriv.errors; print(vegskriv.errors.VegskrivError.__name__)", str(site)],
                         capture_output=True, text=True, check=False)
    assert (out.returncode, out.stdout.strip()) == (0, "VegskrivError"), out.stderr
