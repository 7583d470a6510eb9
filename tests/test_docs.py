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


def _keys_named_by_refusal(doc: dict[str, object]) -> set[str]:
    """The keys a configuration part takes, as its refusal of an unknown key lists them."""
    from helpdesk_core import ConfigError, DeskConfig

    with pytest.raises(ConfigError) as refused:
        DeskConfig.from_dict(doc)
    message = refused.value.message
    listed = re.search(r"\((?:allowed|known|actions|use):? ([^)]*)\)|(?:has|take) (.*)$", message)
    assert listed is not None, message
    return {name.strip() for name in (listed.group(1) or listed.group(2)).split(",")}


def test_configuration_page_names_every_key_a_desk_document_takes() -> None:
    import attrs

    from helpdesk_core.config import AssignmentSettings, DeskSettings, Limits
    from helpdesk_core.intake import Category, Question
    from helpdesk_core.knowledge.settings import KnowledgeSettings
    from helpdesk_core.model import Agent, Team, Tier
    from helpdesk_core.privacy import AccessPolicy, RetentionPolicy

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    keys: set[str] = set()
    for cls in (DeskSettings, Tier, Team, Agent, Category, Question, AssignmentSettings,
                KnowledgeSettings, AccessPolicy, RetentionPolicy, Limits):
        keys |= {a.alias or a.name for a in attrs.fields(cls) if a.init}
    x = "zz_unknown"
    calendar = {"timezone": "UTC", "hours": {"mon": "09:00-10:00"}}
    status = {"name": "a", "category": "new"}
    lifecycle = {"statuses": [status], "initial": "a", "transitions": []}
    trigger = {"name": "t", "on": "reopens", "count": 1, "actions": []}
    for doc in [
        {x: 1},
        {"calendars": {"c": {**calendar, x: 1}}},
        {"calendars": {"c": {**calendar, "holidays": {"country": "DE", x: 1}}}},
        {"lifecycles": {"l": {**lifecycle, x: 1}}},
        {"lifecycles": {"l": {**lifecycle, "statuses": [{**status, x: 1}]}}},
        {"lifecycles": {"l": {**lifecycle, "transitions": [{"name": "t", "from": "a",
                                                             "to": "a", x: 1}]}}},
        {"sla_policies": [{"name": "p", "calendar": "always", "targets": {}, x: 1}]},
        {"routing": [{"name": "r", x: 1}]},
        {"routing": [{"name": "r", "actions": {x: 1}}]},
        {"routing": [{"name": "r", "actions": {"assign": {x: 1}}}]},
        {"escalation_policies": [{"name": "e", x: 1}]},
        {"escalation_policies": [{"name": "e", "triggers": [{**trigger, x: 1}]}]},
        {"escalation_policies": [{"name": "e", "triggers": [
            {**trigger, "actions": [{"action": "escalate_tier", x: 1}]}]}]},
        {"escalation_policies": [{"name": "e", "triggers": [
            {**trigger, "actions": [{"action": x}]}]}]},
    ]:
        keys |= _keys_named_by_refusal(doc)
    missing = sorted(key for key in keys if f"`{key}`" not in page and key != "name")
    assert not missing, missing
