"""Where the project is: the bench runs from its root (``python -m bench``)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYER = ROOT / "layers" / "vegskriv"
