"""Cursor pagination: pages cover the list once, and a forged cursor is a 400."""

import pytest

from achats.chassis.pagination import decode_cursor, encode_cursor, page
from achats.chassis.problems import Problem


def test_pages_cover_the_list_exactly_once():
    items, seen, cursor = list(range(7)), [], None
    while True:
        chunk, cursor = page(items, limit=3, cursor=cursor)
        seen += chunk
        if cursor is None:
            break
    assert seen == items


def test_cursor_round_trip():
    assert decode_cursor(encode_cursor({"offset": 42})) == {"offset": 42}
    assert decode_cursor(None) == {}


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", encode_cursor({"offset": -1}), encode_cursor([1])])
def test_forged_cursors_are_refused(cursor):
    with pytest.raises(Problem) as excinfo:
        page([1, 2], limit=1, cursor=cursor)
    assert excinfo.value.status == 400
    assert excinfo.value.code == "cursor_invalid"
