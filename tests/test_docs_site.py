"""The documentation site builds cleanly (``mkdocs build --strict``) and renders the API
reference from the docstrings."""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import helpdesk_core

ROOT = Path(__file__).resolve().parents[1]


def _missing() -> list[str]:
    out = []
    for name in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        try:
            found = importlib.util.find_spec(name) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            out.append(name)
    return out


MISSING = _missing()
pytestmark = pytest.mark.skipif(
    bool(MISSING),
    reason=f"the docs extra is not installed (missing {', '.join(MISSING)}): "
    "pip install -e '.[docs]'",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, f"mkdocs build --strict failed:\n{done.stdout}\n{done.stderr}"
    return out


def _page(site: Path, *parts: str) -> str:
    return (site.joinpath(*parts) / "index.html").read_text(encoding="utf-8")


def _anchors(text: str) -> set[str]:
    return set(re.findall(r'id="(helpdesk_core[^"]*)"', text))


def test_reference_pages_render_the_docstrings(site: Path) -> None:
    storage = _page(site, "reference", "storage")
    anchors = _anchors(storage)
    for name in ("Store", "MemoryStore", "SqliteStore", "PostgresStore", "TicketQuery"):
        assert f"helpdesk_core.storage.{name}" in anchors, name
    assert "helpdesk_core.storage.Store.append" in anchors
    # A docstring's text, with its Sphinx role turned into a link to the documented class.
    assert re.search(r'Storage: the <a [^>]*href="#helpdesk_core\.storage\.Store"', storage)
    service = _page(site, "reference", "service")
    assert "helpdesk_core.service.Helpdesk.tick" in _anchors(service)


def test_no_reference_page_is_left_unrendered(site: Path) -> None:
    pages = sorted((site / "reference").rglob("index.html"))
    assert len(pages) >= 17
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "::: helpdesk_core" not in text, page
        # Sphinx roles are converted before rendering; none reaches the page.
        assert not re.search(r":(class|meth|func|mod|attr|data):`", html.unescape(text)), page


def test_facade_page_links_every_public_name(site: Path) -> None:
    text = _page(site, "reference")
    links = set(re.findall(r'href="[^"]*#(helpdesk_core\.[\w.]+)"', text))
    linked = {target.rsplit(".", 1)[-1] for target in links}
    public = {name for name in helpdesk_core.__all__ if not name.startswith("_")}
    assert public - linked == set(), "add these names to docs/reference/index.md"


def test_guides_diagrams_and_changelog(site: Path) -> None:
    workflow = _page(site, "workflow")
    assert '<pre class="mermaid">' in workflow and "stateDiagram-v2" in workflow
    changelog = _page(site, "changelog")
    first_entry = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()[0]
    assert first_entry.lstrip("# ") in changelog
    assert "Unreleased" in changelog
    howto = _page(site, "howto", "third-party-store")
    assert "StoreConformance" in howto


def test_performance_page_shows_its_charts(site: Path) -> None:
    source = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    charts = re.findall(r"\]\((img/performance-[\w-]+\.png)\)", source)
    assert charts, "regenerate the page with matplotlib: python -m benchmarks --report-only"
    for chart in charts:
        assert (ROOT / "docs" / chart).is_file(), chart
        assert (site / chart).is_file(), chart
