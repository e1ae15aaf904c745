"""Every relative link in the README and docs/ resolves inside the repository: a clone has no ../shared."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_relative_links_resolve_inside_the_repository() -> None:
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # absolute URLs and anchors
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_contracts_are_shipped_and_linked() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for contract in ("docs/endringssett.md", "docs/tjenester.md", "docs/leveranser.md"):
        assert f"]({contract})" in readme, contract


def test_every_setting_is_documented() -> None:
    """An operator reads the settings in the README and docs/; a new one lands with its line."""
    from vegskriv.settings import Settings

    text = "".join(page.read_text(encoding="utf-8")
                   for page in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))])
    names = [field.alias or name.upper() for name, field in Settings.model_fields.items()]
    assert [name for name in names if f"`{name}`" not in text] == []
