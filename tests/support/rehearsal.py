"""The deploy rehearsal script (``scripts/rehearse_deploy.py``) as a module, for the tests and the
bench that build the layer or run handlers the way it does."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def rehearsal_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("rehearse_deploy", ROOT / "scripts" / "rehearse_deploy.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
