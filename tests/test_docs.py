"""Every ```python block in README.md and docs/ runs, standalone, as a test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        for number, match in enumerate(BLOCK.finditer(text), start=1):
            line = text[: match.start()].count("\n") + 1
            found.append((f"{path.relative_to(ROOT)}:{line}#{number}", match.group(1)))
    return found


@pytest.mark.parametrize(("where", "code"), _blocks(), ids=[w for w, _ in _blocks()])
def test_doc_block_runs(
    where: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__doc_example__"}
    exec(compile(code, where, "exec"), namespace)


def test_configuration_page_shows_the_bundled_example() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    bundled = (ROOT / "src" / "helpdesk_core" / "data" / "it_desk.toml").read_text(encoding="utf-8")
    assert f"```toml\n{bundled}```" in page


def test_the_third_party_store_guide_names_every_method_a_store_may_offer() -> None:
    # An adapter is written from this page: a method it does not name is one an adapter
    # leaves out without knowing what the desk then does without it.
    from helpdesk_core.storage import (
        CursorClaims,
        CursorDeletion,
        RequesterLock,
        SolvedTicketSearch,
        Store,
    )

    page = (ROOT / "docs" / "howto" / "third-party-store.md").read_text(encoding="utf-8")
    protocols = (Store, CursorClaims, CursorDeletion, RequesterLock, SolvedTicketSearch)
    methods = {name for p in protocols for name in dir(p) if not name.startswith("_")}
    methods.add("import_tickets")
    missing = sorted(m for m in methods if f"`{m}" not in page)
    assert not missing, missing
    for protocol in protocols[1:]:
        assert f"`{protocol.__name__}`" in page, protocol.__name__
