"""TOML text of plain documents (the standard library reads TOML but does not write it)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from helpdesk_core.errors import ValidationError

__all__ = ["dumps", "key"]


def key(name: str) -> str:
    """``name`` as a TOML key: bare when it may be, else quoted."""
    bare = name.replace("-", "").replace("_", "")
    return name if name and bare.isascii() and bare.isalnum() else _string(name)


def dumps(document: Mapping[str, Any]) -> str:
    """TOML text that :func:`tomllib.loads` reads back as ``document``: a mapping of text
    keys to tables (mappings), lists, text, numbers, booleans, dates and times. Tables
    inside lists are written inline. ValidationError names a value TOML cannot hold."""
    lines: list[str] = []
    _table(document, (), lines)
    return "\n".join(lines).lstrip("\n") + "\n"


#: Where a value sits in the document: its keys, and its index in each list it is in.
_Path = tuple[str | int, ...]


def _where(path: _Path) -> str:
    """The path of a value as errors name it: ``routing[0].actions.fields.n``."""
    where = ""
    for part in path:
        where += f"[{part}]" if isinstance(part, int) else f".{part}" if where else part
    return where or "document"


#: A list whose line would be longer than this is written an item group a line.
_WIDTH = 88


def _table(table: Mapping[str, Any], path: tuple[str, ...], lines: list[str]) -> None:
    nested = []
    values = []
    for name, value in table.items():
        _check_key(name, path)
        if isinstance(value, Mapping):
            nested.append((name, value))
        else:
            values.append(_entry(key(name), value, (*path, name)))
    if path and (values or not nested):  # a table of tables only needs no header
        lines.append("")
        lines.append("[" + ".".join(key(part) for part in path) + "]")
    lines.extend(values)
    for name, value in nested:
        _table(value, (*path, name), lines)


def _entry(name: str, value: Any, path: _Path) -> str:
    text = f"{name} = {_value(value, path)}"
    if len(text) <= _WIDTH or not isinstance(value, list | tuple):
        return text
    rows: list[str] = []
    row = ""
    for index, item in enumerate(value):
        cell = _value(item, (*path, index)) + ","
        if row and len(row) + 1 + len(cell) > _WIDTH - 4:
            rows.append(row)
            row = ""
        row = f"{row} {cell}" if row else cell
    rows.append(row)
    return f"{name} = [\n" + "\n".join("    " + r for r in rows) + "\n]"


def _check_key(name: Any, path: _Path) -> None:
    if not isinstance(name, str):
        raise ValidationError(
            f"a TOML key is text, got {type(name).__name__} {name!r}",
            field=_where(path),
        )


def _value(value: Any, path: _Path) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValidationError(f"TOML integers are 64-bit, got {value}", field=_where(path))
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, datetime | date | time):
        offset = value.utcoffset() if isinstance(value, datetime | time) else None
        if isinstance(value, time) and value.tzinfo is not None:
            raise ValidationError("a TOML time of day has no offset", field=_where(path))
        if offset is not None and offset % timedelta(minutes=1):
            raise ValidationError(
                f"a TOML offset is whole minutes, got {offset}",
                field=_where(path),
            )
        return value.isoformat()
    if isinstance(value, Mapping):
        for name in value:
            _check_key(name, path)
        cells = ", ".join(
            f"{key(name)} = {_value(item, (*path, name))}" for name, item in value.items()
        )
        return "{ " + cells + " }" if cells else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item, (*path, i)) for i, item in enumerate(value)) + "]"
    if value is None:
        raise ValidationError("TOML has no null", field=_where(path))
    raise ValidationError(f"TOML cannot hold a {type(value).__name__}", field=_where(path))


def _string(text: str) -> str:
    # JSON's escapes are TOML's for every character but the lone surrogates, which UTF-8
    # (and so a TOML file) cannot hold; DEL, which TOML wants escaped, JSON leaves as it is.
    if any("\ud800" <= ch <= "\udfff" for ch in text):
        raise ValidationError("text holds a lone surrogate, which TOML cannot hold")
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")
