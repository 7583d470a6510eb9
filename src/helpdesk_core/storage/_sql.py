"""SQL shared by the SQLite and PostgreSQL stores.

Statements are written with ``?`` placeholders and unqualified table names; the
PostgreSQL store turns ``?`` into ``%s`` (:func:`to_pyformat`) and sets its schema as the
connection's ``search_path``. :class:`QueryBuilder` translates a
:class:`~helpdesk_core.storage.base.TicketQuery` into a WHERE clause with the same meaning
as :meth:`TicketQuery.matches`; each adapter supplies how instants, free text, tags,
links and text search are written.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from attrs import frozen

from helpdesk_core.storage.base import ACTIVE_CATEGORIES, TicketQuery, TicketScope

__all__ = [
    "ACTIVE_SQL",
    "LONG_LIST",
    "NULLS_LAST",
    "ORDER_KEYS",
    "Kept",
    "QueryBuilder",
    "after_sql",
    "chunks",
    "order_sql",
    "placeholders",
    "to_pyformat",
]

T = TypeVar("T")

#: The active status categories as an SQL list literal (values are fixed identifiers).
ACTIVE_SQL = "(" + ", ".join(f"'{c.value}'" for c in ACTIVE_CATEGORIES) + ")"

#: A filter with more values than this is bound as one parameter (a list), not one
#: parameter a value: a statement takes at most 65,535 parameters on PostgreSQL and
#: 32,766 on a SQLite built with its defaults.
LONG_LIST = 1000

#: The column each ordering sorts on and whether it sorts descending (ties by id,
#: ascending): what a page that follows on from the last row read needs to know.
ORDER_KEYS = {
    "created_at": ("created_at", False),
    "-created_at": ("created_at", True),
    "updated_at": ("updated_at", False),
    "-updated_at": ("updated_at", True),
    "priority": ("priority_rank", False),
    "number": ("number", False),
    "-number": ("number", True),
    "queued_at": ("queued_at", False),
    "-queued_at": ("queued_at", True),
}

#: The orderings on a column that may be NULL: its NULLs come last in either direction.
NULLS_LAST = frozenset({"queued_at", "-queued_at"})


def _nulls_match(query: TicketQuery) -> bool:
    """Whether rows whose order key is NULL may match ``query``. None match a query of
    waiting tickets (``queued=True``, a queue drain's): its ``queued_at`` order is then
    written as the other orders are, so that the database can read it in the order of
    the index of waiting tickets, ``(team, queued_at)``, and page on from a range of it
    (an ``IS NULL OR`` would rule that range out)."""
    return query.order_by in NULLS_LAST and not query.queued


def order_sql(query: TicketQuery) -> str:
    """The ORDER BY clause of ``query``'s order; ties by id, ascending."""
    column, descending = ORDER_KEYS[query.order_by]
    order = f"{column} DESC" if descending else column
    if _nulls_match(query):
        order += " NULLS LAST"
    return f"{order}, id"


def after_sql(query: TicketQuery, last: tuple[Any, Any]) -> tuple[str, tuple[Any, ...]]:
    """A condition keeping the rows that come after the row whose order key and id are
    ``last`` in ``query``'s order, and its qmark parameters."""
    column, descending = ORDER_KEYS[query.order_by]
    key, last_id = last
    if key is None:  # NULLs come last: the NULLs with a greater id follow
        return f"{column} IS NULL AND id > ?", (last_id,)
    op = "<" if descending else ">"
    sql = f"{column} {op}= ? AND ({column} {op} ? OR id > ?)"
    if _nulls_match(query):
        sql = f"({column} IS NULL OR ({sql}))"
    return sql, (key, key, last_id)


@frozen
class Kept:
    """Where the last page of a query that had more pages ended: the query's
    :attr:`~helpdesk_core.storage.base.TicketQuery.matches_key`, a token of the data it
    was read from (any value that differs once the data may differ), the offset after
    it, the order key and id of its last row (see :func:`after_sql`) and the total.
    While the token holds, the page at that offset is the one after that row, and the
    total stands."""

    key: tuple[Any, ...]
    token: Any
    end: int
    last: tuple[Any, Any]
    total: int

    def continues(self, query: TicketQuery) -> bool:
        """Whether ``query`` asks for the page after this one."""
        return self.end == query.offset and self.key == query.matches_key


# ---------------------------------------------------------------------------- statements

SELECT_SNAPSHOT = "SELECT snapshot FROM tickets WHERE id = ?"
SELECT_EVENTS = "SELECT data FROM events WHERE ticket_id = ? AND version > ? ORDER BY version"
SELECT_STREAM = "SELECT position, data FROM events WHERE position > ? ORDER BY position LIMIT ?"
SELECT_HISTORY = (
    "SELECT snapshot FROM tickets WHERE requester = ? ORDER BY created_at DESC, id LIMIT ?"
)
SELECT_HISTORY_IDS = (
    "SELECT id FROM tickets WHERE requester = ? ORDER BY created_at DESC, id LIMIT ?"
)
SELECT_DUE = (
    "SELECT id FROM tickets WHERE wake_at IS NOT NULL AND wake_at <= ? ORDER BY wake_at, id LIMIT ?"
)
SELECT_LOADS = (
    "SELECT assignee, priority, count(*) FROM tickets "
    f"WHERE assignee IS NOT NULL AND status_category IN {ACTIVE_SQL} "
    "GROUP BY assignee, priority"
)
SELECT_REQUESTER = "SELECT data FROM requesters WHERE id = ?"
# Candidates by the case-folded key, in id order; the store keeps the first whose address
# is the one asked for in lower case (see base.first_with_email).
SELECT_REQUESTER_BY_EMAIL = "SELECT data FROM requesters WHERE email_key = ? ORDER BY id"
SELECT_CURSOR = "SELECT value FROM cursors WHERE key = ?"
UPSERT_CURSOR = (
    "INSERT INTO cursors (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)
CLAIM_CURSOR = (
    "INSERT INTO cursors (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE cursors.value = 0 "
    "RETURNING key"
)
# PostgreSQL claims in two steps, so that a claim that loses locks nothing (an
# ``ON CONFLICT DO UPDATE ... WHERE`` locks the row even when the WHERE is false).
INSERT_CURSOR_IF_ABSENT = (
    "INSERT INTO cursors (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING RETURNING key"
)
CLAIM_RELEASED_CURSOR = "UPDATE cursors SET value = ? WHERE key = ? AND value = 0 RETURNING key"


def delete_cursors_sql(count: int) -> str:
    """Delete the cursors whose key starts with a prefix (parameters: its length, the
    prefix) and whose value is one of ``count`` values (the parameters that follow)."""
    return (
        "DELETE FROM cursors WHERE substr(key, 1, ?) = ? "
        f"AND value IN ({placeholders(count)})"
    )


SELECT_CONFIG = "SELECT document FROM config WHERE id = 1"
UPSERT_CONFIG = (
    "INSERT INTO config (id, document) VALUES (1, ?) "
    "ON CONFLICT (id) DO UPDATE SET document = excluded.document"
)
SELECT_HWM = "SELECT acked_upto FROM outbox_consumers WHERE name = ?"
INSERT_CONSUMER = (
    "INSERT INTO outbox_consumers (name, acked_upto) VALUES (?, 0) ON CONFLICT (name) DO NOTHING"
)
# Every event is an outbox item: a consumer reads the events log from its high-water mark.
SELECT_CLAIMABLE = (
    "SELECT e.position, e.ticket_id, e.version, e.data, d.state, d.attempts "
    "FROM events e "
    "LEFT JOIN outbox_deliveries d ON d.consumer = ? AND d.position = e.position "
    "WHERE e.position > ? AND (d.state IS NULL OR d.state = 'pending' "
    "OR (d.state = 'leased' AND d.lease_until <= ?)) "
    "ORDER BY e.position LIMIT ?"
)
UPSERT_LEASE = (
    "INSERT INTO outbox_deliveries (consumer, position, state, lease_until, attempts) "
    "VALUES (?, ?, 'leased', ?, ?) ON CONFLICT (consumer, position) DO UPDATE SET "
    "state = 'leased', lease_until = excluded.lease_until, attempts = excluded.attempts"
)
UPSERT_ACK = (
    "INSERT INTO outbox_deliveries (consumer, position, state, lease_until, attempts) "
    "VALUES (?, ?, 'acked', NULL, 0) ON CONFLICT (consumer, position) DO UPDATE SET "
    "state = 'acked', lease_until = NULL"
)
UPDATE_RELEASE = (
    "UPDATE outbox_deliveries SET state = 'pending', lease_until = NULL, "
    "attempts = attempts + 1, last_error = ? "
    "WHERE consumer = ? AND position = ? AND state = 'leased'"
)
# The same, for an item given back as the OutboxItem a claim returned: only while that
# claim's lease holds it (a later claim counted one more attempt).
UPDATE_RELEASE_LEASE = UPDATE_RELEASE + " AND attempts = ?"


def release_rows(
    error: str | None, consumer: str, positions: Sequence[int], attempts: Sequence[int | None]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The parameters of :data:`UPDATE_RELEASE` (items given by id) and of
    :data:`UPDATE_RELEASE_LEASE` (items given as claimed)."""
    by_id: list[tuple[Any, ...]] = []
    by_lease: list[tuple[Any, ...]] = []
    for position, attempt in zip(positions, attempts, strict=True):
        if attempt is None:
            by_id.append((error, consumer, position))
        else:
            by_lease.append((error, consumer, position, attempt))
    return by_id, by_lease
# The first position after the high-water mark the consumer has not acked, and the last
# position, read by one statement: in PostgreSQL's READ COMMITTED each statement sees its
# own snapshot, and an append committed between two separate reads would be counted as
# acked without ever having been claimed.
# The first unacked position is read in position order with LIMIT 1, not with min():
# PostgreSQL plans min() over an anti-join as a scan of every later event (hundreds of
# milliseconds for a consumer far behind), the ordered form stops at the first one.
SELECT_ACK_FRONTIER = (
    "SELECT (SELECT e.position FROM events e WHERE e.position > ? AND NOT EXISTS ("
    "SELECT 1 FROM outbox_deliveries d WHERE d.consumer = ? AND d.position = e.position "
    "AND d.state = 'acked') ORDER BY e.position LIMIT 1), (SELECT max(position) FROM events)"
)


def acked_upto(mark: int, first_unacked: int | None, last: int | None) -> int:
    """The consumer's new high-water mark from :data:`SELECT_ACK_FRONTIER`'s row: just
    before the first unacked position, else the last position (else unchanged)."""
    if first_unacked is not None:
        return int(first_unacked) - 1
    return mark if last is None else int(last)


UPDATE_HWM = "UPDATE outbox_consumers SET acked_upto = ? WHERE name = ? AND acked_upto < ?"
DELETE_ACKED = "DELETE FROM outbox_deliveries WHERE consumer = ? AND position <= ?"


def to_pyformat(sql: str) -> str:
    """``?`` placeholders → ``%s`` (the shared statements contain no literal ``?``/``%``)."""
    return sql.replace("?", "%s")


def placeholders(count: int) -> str:
    """``?, ?, ?`` for ``count`` values."""
    return ", ".join("?" * count)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


# ---------------------------------------------------------------------------- queries


class QueryBuilder:
    """Turns a TicketQuery into ``WHERE`` SQL and parameters (``?`` placeholders).

    Subclasses say how instants and free-text values are stored, and how tag, link and
    text filters are written."""

    def instant(self, value: datetime) -> Any:
        """An instant as stored in the ticket columns."""
        return value

    def value(self, text: str) -> str:
        """A free-text value (category, asset, tag) as stored."""
        return text

    def flag(self, value: bool) -> Any:
        """A true/false value as stored in the ticket columns."""
        return value

    def any_of(self, column: str, values: Sequence[Any], params: list[Any]) -> str:
        """SQL true when ``column`` holds one of ``values`` (one or more)."""
        params.extend(values)
        if len(values) == 1:
            return f"{column} = ?"
        return f"{column} IN ({placeholders(len(values))})"

    def tags(self, tags: tuple[str, ...], params: list[Any]) -> str:
        """SQL true when the ticket carries any of ``tags``."""
        raise NotImplementedError

    def links_to(self, ids: tuple[str, ...], params: list[Any]) -> str:
        """SQL true when the ticket holds a link (of any kind) to any of the ticket ``ids``."""
        raise NotImplementedError

    def text(self, folded: str, params: list[Any]) -> str:
        """SQL true when the case-folded query is a substring of ``search_text``."""
        raise NotImplementedError

    def where(self, query: TicketQuery) -> tuple[str, list[Any]]:
        """``(sql, params)``: the WHERE clause (``"1 = 1"`` when nothing filters)."""
        clauses: list[str] = []
        params: list[Any] = []

        def any_of(column: str, values: Sequence[Any] | None) -> None:
            if values is not None:
                clauses.append(self.any_of(column, values, params))

        any_of("number", query.number)
        any_of("status", query.status)
        any_of("status_category", _values(query.status_category))
        any_of("category", _texts(self, query.category))
        any_of("type", query.type)
        any_of("team", query.team)
        any_of("tier", query.tier)
        any_of("assignee", query.assignee)
        any_of("owner", query.owner)
        any_of("requester", query.requester)
        any_of("organization", _texts(self, query.organization))
        any_of("asset", _texts(self, query.asset))
        any_of("priority", _values(query.priority))
        if query.tag is not None:
            clauses.append(self.tags(tuple(self.value(t) for t in query.tag), params))
        if query.links_to is not None:
            clauses.append(self.links_to(tuple(dict.fromkeys(query.links_to)), params))
        if query.unassigned:
            clauses.append("assignee IS NULL")
        if query.queued:
            clauses.append("queued_at IS NOT NULL")
        if query.active_only or (
            query.status_category is not None
            and all(category in ACTIVE_CATEGORIES for category in query.status_category)
        ):
            # Also said when the categories asked for are active ones: the clause, word
            # for word, is what lets SQLite read the partial index of active tickets
            # rather than every ticket.
            clauses.append(f"status_category IN {ACTIVE_SQL}")
        if query.updated_since is not None:
            clauses.append("updated_at >= ?")
            params.append(self.instant(query.updated_since))
        if query.closed_before is not None:
            clauses.append("status_category = 'closed' AND closed_at < ?")
            params.append(self.instant(query.closed_before))
        if query.anonymised is not None:
            clauses.append("anonymised = ?")
            params.append(self.flag(query.anonymised))
        if query.sla_deadline_before is not None:
            clauses.append("sla_deadline < ?")
            params.append(self.instant(query.sla_deadline_before))
        if query.text is not None:
            clauses.append(self.text(query.text.casefold(), params))
        if query.scope is not None:
            clauses.append(_scope_sql(self, query.scope, params))
        return (" AND ".join(clauses) or "1 = 1"), params


def _scope_sql(builder: QueryBuilder, scope: TicketScope, params: list[Any]) -> str:
    """SQL true when a ticket meets any condition of ``scope`` (false when it has none)."""
    terms: list[str] = []
    if scope.teams:
        terms.append(builder.any_of("team", scope.teams, params))
    if scope.unrouted:
        terms.append("team IS NULL")
    if scope.agent is not None:
        terms.append("assignee = ?")
        terms.append("owner = ?")
        params.extend((scope.agent, scope.agent))
    if scope.requester is not None:
        terms.append("requester = ?")
        params.append(scope.requester)
    if scope.organization is not None:
        terms.append("organization = ?")
        params.append(builder.value(scope.organization))
    return "(" + " OR ".join(terms) + ")" if terms else "1 = 0"


def _values(items: tuple[Any, ...] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(item.value for item in items)


def _texts(builder: QueryBuilder, items: tuple[str, ...] | None) -> tuple[str, ...] | None:
    return None if items is None else tuple(builder.value(item) for item in items)
