"""Cursor pagination: pages cover the list once, in order, on both databases; a forged cursor is a 400."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from achats.chassis.db import MODEL_TYPES, Database
from achats.chassis.pagination import decode_position, encode_position, keyset_page, page
from achats.chassis.problems import Problem


class Base(DeclarativeBase):
    type_annotation_map = MODEL_TYPES


class Row(Base):
    __tablename__ = "paged_rows"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime]
    rank: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(20))


T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    with database.session() as session:
        # Ties on purpose: three rows share a time, two ranks only; the id makes the order total.
        for n in range(7):
            session.add(Row(at=T0 + timedelta(seconds=n // 3), rank=n % 2, name=f"r{n}"))
        session.commit()
    yield database
    database.dispose()


def all_pages(db: Database, *, limit: int, **kwargs) -> tuple[list[str], int]:
    seen, cursor, pages = [], None, 0
    with db.session() as session:
        while True:
            rows, cursor = keyset_page(session, select(Row), limit=limit, cursor=cursor, **kwargs)
            seen += [r.name for r in rows]
            pages += 1
            if cursor is None:
                return seen, pages


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("keys", [(Row.at, Row.id), (Row.rank, Row.at, Row.id), (Row.name, Row.id)])
def test_keyset_pages_follow_the_order_without_gap_or_repeat(db, keys, descending):
    with db.session() as session:
        wanted = [r.name for r in session.execute(select(Row).order_by(
            *[(k.desc() if descending else k.asc()) for k in keys])).scalars()]
    for limit in (1, 2, 3, 7, 50):
        seen, pages = all_pages(db, limit=limit, keys=keys, descending=descending)
        assert seen == wanted, (limit, keys)
        # Boundaries: a full last page has no next cursor (7 rows, limit 7: one page), never an empty page.
        assert pages == max(1, -(-7 // limit))


def test_rows_added_before_the_cursor_do_not_shift_the_next_page(db):
    with db.session() as session:
        first, cursor = keyset_page(session, select(Row), keys=(Row.at, Row.id), limit=3, cursor=None,
                                    descending=True)
        session.add(Row(at=T0 + timedelta(hours=1), rank=0, name="newer"))
        session.commit()
        second, _ = keyset_page(session, select(Row), keys=(Row.at, Row.id), limit=3, cursor=cursor,
                                descending=True)
    assert not {r.name for r in first} & {r.name for r in second}
    assert "newer" not in {r.name for r in second}


def test_the_statement_keeps_its_own_conditions(db):
    with db.session() as session:
        rows, cursor = keyset_page(session, select(Row).where(Row.rank == 1), keys=(Row.at, Row.id), limit=2,
                                   cursor=None)
        rest, end = keyset_page(session, select(Row).where(Row.rank == 1), keys=(Row.at, Row.id), limit=2,
                                cursor=cursor)
        # r3 and r5 share a time: their random ids order them.
        ranked = session.scalars(select(Row).where(Row.rank == 1))
        expected = [r.name for r in sorted(ranked, key=lambda r: (r.at, r.id))]
    assert sorted(expected) == ["r1", "r3", "r5"]
    assert [r.name for r in rows + rest] == expected and end is None


def test_position_round_trip():
    moment, ident = datetime(2026, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC), uuid.uuid4()
    cursor = encode_position([3, moment, ident, "dupont"], scope="severity")
    assert decode_position(cursor, (int, datetime, uuid.UUID, str), scope="severity") == (3, moment, ident, "dupont")
    assert decode_position(None, (int,)) is None and decode_position("", (int,)) is None
    assert "=" not in cursor


CURSOR_TYPES = (datetime, uuid.UUID)


def forged(document) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode()

GOOD = [T0.isoformat(), str(uuid.uuid4())]


@pytest.mark.parametrize("cursor", [
    "%%%", "bm90IGpzb24", "e30",  # not base64, not JSON, a JSON object
    encode_position([T0, uuid.uuid4()], scope="oldest"),  # another order's cursor
    encode_position([T0]),  # too short
    encode_position([T0, uuid.uuid4(), 1]),  # too long
    encode_position(["hier", GOOD[1]]),  # not a time
    encode_position([T0.replace(tzinfo=None).isoformat(), GOOD[1]]),  # a naive time
    encode_position([GOOD[0], "pas-un-uuid"]),
    encode_position([GOOD[0], 7]),
    forged(["", *GOOD, None]), forged([None, *GOOD]),
])
def test_forged_keyset_cursors_are_the_one_cursor_invalid_problem(cursor):
    with pytest.raises(Problem) as excinfo:
        decode_position(cursor, CURSOR_TYPES)
    problem = excinfo.value
    assert (problem.status, problem.code) == (400, "cursor_invalid")
    assert problem.detail == "Le curseur de pagination est invalide."
    assert [e.field for e in problem.errors] == ["cursor"]


def test_a_forged_cursor_is_refused_before_any_query(db):
    with db.session() as session, pytest.raises(Problem) as excinfo:
        keyset_page(session, select(Row), keys=(Row.rank, Row.id), limit=2, cursor=forged(["", True, GOOD[1]]))
    assert excinfo.value.code == "cursor_invalid"


def test_pages_cover_the_list_exactly_once():
    items, seen, cursor = list(range(7)), [], None
    while True:
        chunk, cursor = page(items, limit=3, cursor=cursor)
        seen += chunk
        if cursor is None:
            break
    assert seen == items
    assert page(items, limit=7, cursor=None) == (items, None)


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_position([-1], scope="offset"),
                                    encode_position([1]), encode_position(["1"], scope="offset")])
def test_forged_cursors_are_refused(cursor):
    with pytest.raises(Problem) as excinfo:
        page([1, 2], limit=1, cursor=cursor)
    assert excinfo.value.status == 400
    assert excinfo.value.code == "cursor_invalid"
