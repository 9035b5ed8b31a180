"""« Journal »'s paging across three services' own cursors (journal.merge_page): page after page, every entry is
shown once, in the merged newest-first order, whatever each service's page size and however their times interleave."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from achats.web import journal


def _service(key: str, times: list[datetime], size: int):
    """A service's audit paged by offset cursors of ``size`` entries, newest first."""
    entries = sorted(({"service": key, "moment": t, "id": f"{key}-{i}"} for i, t in enumerate(times)),
                     key=lambda e: e["moment"], reverse=True)

    def fetch(cursor: str | None) -> tuple[list[dict], str | None]:
        start = int(cursor or 0)
        following = str(start + size) if start + size < len(entries) else None
        return entries[start:start + size], following

    return entries, fetch


@pytest.mark.parametrize("seed", range(6))
def test_every_entry_once_newest_first(seed):
    chance = random.Random(seed)
    base = datetime(2026, 12, 7, tzinfo=UTC)
    services = {key: _service(key, [base + timedelta(seconds=chance.randrange(500)) for _ in range(chance.randrange(
        0, 40))], size=chance.choice((3, 5, 50))) for key in ("comptes", "entreprises", "assistance")}
    suite, shown, pages = None, [], 0
    while True:
        state = journal.decode_state(suite)
        fetched = {}
        for key, (_entries, fetch) in services.items():
            position = state.get(key, journal.START)
            if position["done"]:
                fetched[key] = journal.Fetched(items=[], following=None, position=position)
                continue
            items, following = fetch(position["cursor"])
            fetched[key] = journal.Fetched(items=items[position["skip"]:], following=following, position=position)
        page, following_state = journal.merge_page(fetched, 7)
        assert len(page) <= 7
        shown += page
        pages += 1
        assert pages < 200
        if not following_state:
            break
        suite = journal.encode_state({**state, **following_state})
    everything = [e for entries, _fetch in services.values() for e in entries]
    assert sorted(e["id"] for e in shown) == sorted(e["id"] for e in everything)
    moments = [e["moment"] for e in shown]
    assert moments == sorted(moments, reverse=True)


def test_a_suite_that_is_not_ours_starts_again():
    assert journal.decode_state("pas-un-curseur") == {}
    assert journal.decode_state(None) == {}
