"""A griffe extension that turns the reStructuredText bits of our docstrings into Markdown.

The docstrings are plain prose with ``double backticks``; they also use Sphinx roles
(``:class:`~helpdesk_core.storage.Store```), ``::`` before literal blocks, and doctest
examples. mkdocstrings renders docstrings as Markdown, so before rendering:

* a role becomes an optional cross-reference (``<autoref identifier=... optional>``): a
  link when the target is documented on the site, plain code otherwise (no warning);
  relative names are resolved in the scope of the object that carries the docstring;
* a paragraph ending in ``::`` ends in ``:`` (the indented block after it is already a
  Markdown code block);
* a run of doctest lines (``>>>``, ``...`` and their output) becomes a ``pycon`` fence.

Used by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(class|meth|func|attr|mod|data|exc|obj|const):`(~?)([^`<>]+)`")
PACKAGE = "helpdesk_core"


def _identifier(obj: griffe.Object, target: str) -> str:
    """The full dotted path ``target`` names, seen from ``obj`` (``target`` if unknown)."""
    if target.startswith(PACKAGE + ".") or target == PACKAGE:
        return target
    if target.startswith("."):
        module = obj if obj.is_module else obj.module
        return module.path + target
    head, _, rest = target.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            resolved = scope.resolve(head)
        except (griffe.NameResolutionError, griffe.AliasResolutionError, KeyError):
            scope = scope.parent
            continue
        return f"{resolved}.{rest}" if rest else resolved
    return target


def _past_module(obj: griffe.Object, identifier: str) -> str:
    """A function or class named like the module that defines it (``simulation.sweep``)
    resolves to the module; point at the member of the same name instead."""
    try:
        found = obj.modules_collection[identifier]
    except (KeyError, griffe.AliasResolutionError):
        return identifier
    name = identifier.rsplit(".", 1)[-1]
    if found.is_module and name in found.members:
        return f"{identifier}.{name}"
    return identifier


def _role(obj: griffe.Object, match: re.Match[str]) -> str:
    kind, short, target = match.group(1), match.group(2), match.group(3).strip()
    target = target.removesuffix("()")
    shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
    if kind in {"meth", "func"}:
        shown += "()"
    identifier = _identifier(obj, target)
    if kind in {"class", "func", "meth"}:
        identifier = _past_module(obj, identifier)
    return f'<autoref identifier="{identifier}" optional>`{shown}`</autoref>'


def _doctests(text: str) -> str:
    """Fence every run of doctest lines (prompt lines and the output that follows)."""
    out: list[str] = []
    inside = False
    indent = ""
    for line in text.split("\n"):
        prompt = line.lstrip().startswith(">>>")
        if prompt and not inside:
            indent = line[: len(line) - len(line.lstrip())]
            if out and out[-1].strip():
                out.append("")
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not line.strip():
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


def _literal_blocks(text: str) -> str:
    """``text::`` before an indented block reads ``text:`` in Markdown."""
    return re.sub(r"(?<=\S)::(?=\n\n)", ":", text)


def convert(obj: griffe.Object, text: str) -> str:
    """The Markdown form of one docstring of ``obj``."""
    text = _doctests(text)
    text = _literal_blocks(text)
    parts = re.split(r"(```.*?```)", text, flags=re.DOTALL)
    return "".join(
        part if part.startswith("```") else ROLE.sub(lambda m: _role(obj, m), part)
        for part in parts
    )


class RstToMarkdown(griffe.Extension):
    """Rewrite every docstring of the loaded package once its object tree is complete."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Convert the docstrings of ``pkg`` and everything in it."""
        self._walk(pkg, set())

    def _walk(self, obj: griffe.Object, seen: set[str]) -> None:
        if obj.path in seen:
            return
        seen.add(obj.path)
        if obj.docstring is not None:
            obj.docstring.value = convert(obj, obj.docstring.value)
        for member in obj.members.values():
            if not member.is_alias and isinstance(member, griffe.Object):
                self._walk(member, seen)
