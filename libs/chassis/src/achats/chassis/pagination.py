"""Cursor pagination of lists (DESIGN §6: `limit` and an opaque `cursor`).

Two kinds, one cursor format (urlsafe base64 of a JSON list, no padding) and one answer to a cursor that is
not ours (``cursor_invalid``, 400):

- ``keyset_page(session, statement, keys=..., ...)``: lists read from the database. The cursor holds the sort
  key values of the last row given; the next page is the rows strictly after them
  (``WHERE (a, b) > (:a, :b)``, or ``<`` newest first), so rows added meanwhile neither shift nor repeat
  entries. The last key must make the order total (an id).
- ``page(items, ...)``: an already ordered list in memory, by offset.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, literal, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from .problems import FieldError, Problem


def cursor_invalid() -> Problem:
    """The answer to a cursor that is not one of ours (forged, damaged, of another list or order)."""
    return Problem(status=400, code="cursor_invalid", detail="Le curseur de pagination est invalide.",
                   errors=[FieldError("cursor", "Curseur invalide : reprenez la liste depuis le début.")])


def _encode(document: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(document, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise cursor_invalid() from None


# --- keyset ---------------------------------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a cursor")
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if value is None or isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"cannot put {value!r} in a cursor")
    return value


def _typed(value: Any, kind: type) -> Any:
    """``value`` read back from a cursor as ``kind``; ValueError when it cannot be one."""
    if kind is datetime:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        if moment is None or moment.tzinfo is None:
            raise ValueError(value)
        return moment
    if kind is uuid.UUID:
        if not isinstance(value, str):
            raise ValueError(value)
        return uuid.UUID(value)
    if kind is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError(value)
        return value
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(value)
        return value
    raise TypeError(f"no cursor value of type {kind!r}")


def encode_position(values: Sequence[Any], *, scope: str = "") -> str:
    """The cursor of the row whose sort key values are ``values`` (datetimes aware, UUIDs, ints, strings).
    ``scope`` tells apart the cursors of different orders over the same types (a queue's sorts)."""
    return _encode([scope, *(_plain(value) for value in values)])


def decode_position(cursor: str | None, types: Sequence[type], *, scope: str = "") -> tuple | None:
    """The sort key values of ``cursor`` as ``types``, None for no cursor (the first page); the
    ``cursor_invalid`` Problem for anything else than a cursor ``encode_position`` made with this scope."""
    if not cursor:
        return None
    document = _decode(cursor)
    if not isinstance(document, list) or len(document) != len(types) + 1 or document[0] != scope:
        raise cursor_invalid()
    try:
        return tuple(_typed(value, kind) for value, kind in zip(document[1:], types, strict=True))
    except ValueError:
        raise cursor_invalid() from None


def key_types(keys: Sequence[Any]) -> tuple[type, ...]:
    """The Python types of the sort key columns (what their cursor values are read back as)."""
    return tuple(_python_type(key.type) for key in keys)


def _python_type(sql_type: TypeEngine) -> type:
    if isinstance(sql_type, TypeDecorator):  # UTCDateTime: its implementation's (datetime)
        sql_type = sql_type.impl_instance
    return sql_type.python_type


def after(keys: Sequence[Any], values: Sequence[Any], *, descending: bool = False) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``keys`` (all ascending, or all descending): a row-value
    comparison, each value bound with its column's type (aware datetimes stored naive on SQLite...)."""
    bound = tuple_(*(literal(value, key.type) for key, value in zip(keys, values, strict=True)))
    row = tuple_(*keys)
    return row < bound if descending else row > bound


def order(keys: Sequence[Any], *, descending: bool = False) -> list:
    return [key.desc() for key in keys] if descending else [key.asc() for key in keys]


def keyset_page(session: Session, statement: Select, *, keys: Sequence[Any], limit: int, cursor: str | None,
                descending: bool = False, scope: str = "",
                values_of: Callable[[Any], Sequence[Any]] | None = None) -> tuple[list[Any], str | None]:
    """One page of ``statement`` (a select of ORM entities, not ordered: this orders it by ``keys``) after
    ``cursor``, and the cursor of the next page (None at the end). ``values_of(row)`` gives a row's key values;
    by default the entity's attributes named like the keys."""
    position = decode_position(cursor, key_types(keys), scope=scope)
    if position is not None:
        statement = statement.where(after(keys, position, descending=descending))
    rows = list(session.execute(statement.order_by(*order(keys, descending=descending)).limit(limit + 1))
                .scalars())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = values_of(rows[-1]) if values_of else [getattr(rows[-1], key.key) for key in keys]
    return rows, encode_position(last, scope=scope)


# --- in memory ------------------------------------------------------------------------------------------------

def page(items: Sequence[Any], *, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """One page of an already ordered list, and the cursor of the next page (None at the end)."""
    (offset,) = decode_position(cursor, (int,), scope="offset") or (0,)
    if offset < 0:
        raise cursor_invalid()
    chunk = list(items[offset:offset + limit])
    following = offset + limit
    return chunk, encode_position([following], scope="offset") if following < len(items) else None
