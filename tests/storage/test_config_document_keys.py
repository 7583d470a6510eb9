"""A configuration document's keys are text at every depth: JSON would turn a key ``1``
into ``"1"``, and the document would load back with other keys than it was saved with."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from desk_stores import STORES, drop
from helpdesk_core.errors import ValidationError
from helpdesk_core.storage import Store

_BAD: list[tuple[Any, str]] = [
    ({1: "a"}, "document[1]"),
    ({"teams": [{"id": "desk", 2: "x"}]}, "document['teams'][0][2]"),
    ({"a": {"b": {None: 1}}}, "document['a']['b'][None]"),
    ({"a": [[{True: 1}]]}, "document['a'][0][0][True]"),
    ({"a": ({"ok": 1}, {1.5: "x"})}, "document['a'][1][1.5]"),
]


@pytest.mark.parametrize("make_store", STORES)
def test_every_store_refuses_keys_that_are_not_text_and_names_where(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    store = make_store(tmp_path)
    try:
        store.save_config_document({"kept": {"a": [1]}})
        for document, path in _BAD:
            with pytest.raises(ValidationError, match="text") as info:
                store.save_config_document(document)
            assert info.value.field == path
            assert path in str(info.value)
        assert store.load_config_document() == {"kept": {"a": [1]}}
        store.save_config_document({"a": [{"b": {"c": None}}], "d": []})  # text keys pass
        assert store.load_config_document() == {"a": [{"b": {"c": None}}], "d": []}
    finally:
        drop(store)


def test_a_key_deep_in_a_document_is_named_by_its_whole_path() -> None:
    from helpdesk_core.storage.codecs import encode_document

    document: dict[str, Any] = {}
    inner = document
    for _ in range(200):
        inner["x"] = [{}]
        inner = inner["x"][0]
    inner[7] = "deep"
    with pytest.raises(ValidationError) as info:
        encode_document(document)
    assert info.value.field is not None and info.value.field.endswith("['x'][0][7]")


@pytest.mark.parametrize("make_store", STORES)
def test_every_store_refuses_a_document_nested_too_deeply_for_json(
    make_store: Callable[[Path], Store], tmp_path: Path
) -> None:
    document: dict[str, Any] = {}
    inner = document
    for _ in range(5_000):  # past the interpreter's recursion limit
        inner["x"] = [{}]
        inner = inner["x"][0]
    store = make_store(tmp_path)
    try:
        store.save_config_document({"kept": 1})
        with pytest.raises(ValidationError, match="nested") as info:
            store.save_config_document(document)
        assert info.value.field == "document"
        assert store.load_config_document() == {"kept": 1}
    finally:
        drop(store)
