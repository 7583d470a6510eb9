"""Reading configuration documents (private): shape checks that raise ConfigError with the
path of the bad part."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from helpdesk_core.errors import ConfigError, ValidationError

__all__ = [
    "at",
    "check_keys",
    "join",
    "mapping",
    "rebased",
    "relative",
    "sequence",
    "text_list",
]


def join(path: str, part: str) -> str:
    """``path.part`` (``path[3]`` for an index part), or ``part`` alone at the top level."""
    if not path:
        return part.lstrip(".")
    if not part:
        return path
    return f"{path}{part}" if part.startswith("[") else f"{path}.{part}"


def mapping(doc: Any, path: str, what: str) -> Mapping[str, Any]:
    """``doc`` if it is a mapping, else ConfigError."""
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{what} must be a mapping, got {type(doc).__name__}", path=path)
    return doc


def sequence(doc: Any, path: str, what: str) -> Sequence[Any]:
    """``doc`` if it is a list or tuple, else ConfigError."""
    if not isinstance(doc, list | tuple):
        raise ConfigError(f"{what} must be a list, got {type(doc).__name__}", path=path)
    return doc


def text_list(doc: Any, path: str, what: str) -> tuple[str, ...]:
    """A list of strings (a single string counts as a list of one)."""
    if isinstance(doc, str):
        return (doc,)
    items = sequence(doc, path, what)
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise ConfigError(f"{what} must be text, got {item!r}", path=f"{path}[{i}]")
    return tuple(items)


def check_keys(
    doc: Mapping[str, Any],
    path: str,
    *,
    required: Sequence[str] = (),
    optional: Sequence[str] = (),
) -> None:
    """Refuse missing required keys and unknown keys, naming them."""
    for key in required:
        if key not in doc:
            raise ConfigError("required key missing", path=join(path, key))
    allowed = {*required, *optional}
    unknown = sorted(str(k) for k in doc if k not in allowed)
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})",
            path=path,
        )


@contextmanager
def at(path: str) -> Iterator[None]:
    """Turn a ValidationError raised inside into a ConfigError located under ``path``."""
    try:
        yield
    except ConfigError:
        raise
    except ValidationError as exc:
        raise ConfigError(exc.message, path=join(path, exc.field or "")) from exc


@contextmanager
def relative(path: str) -> Iterator[None]:
    """Put ``path`` in front of the path of any ValidationError or ConfigError raised
    inside (their paths are relative to the object being built), as a ConfigError."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(exc.message, path=join(path, exc.path or "")) from exc
    except ValidationError as exc:
        raise ConfigError(exc.message, path=join(path, exc.field or "")) from exc


def rebased(exc: ConfigError, old: str, new: str) -> ConfigError:
    """``exc`` with the path prefix ``old`` replaced by ``new``."""
    path = exc.path or ""
    if path == old:
        path = new
    elif path.startswith((old + ".", old + "[")):
        path = new + path[len(old) :]
    else:
        path = join(new, path)
    out = ConfigError(exc.message, path=path)
    out.__cause__ = exc.__cause__
    return out
