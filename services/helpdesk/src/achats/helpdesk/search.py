"""French full-text search of the FAQ, for suggestions while the user types.

PostgreSQL: the ``french`` text search configuration (snowball stemmer, French stop words) on
GIN-indexed tsvectors of the question (with its keywords) and of the answer: matching questions
ranked by ts_rank, then entries whose answer alone matches.
SQLite (the embedded mode): an FTS5 table kept by triggers, ranked by bm25, queried with the stem of
each word as a prefix (FTS5 has no French stemmer). On both, accents are removed before indexing and
searching, words of questions (« comment », « quel »...) are ignored like stop words, every word may
match (the best matches first) and the last one, perhaps unfinished, also matches as a prefix:
« mot de passe oublié » finds « J'ai oublié mon mot de passe » and « Mots de passe ».
"""

from __future__ import annotations

import functools
import re
import unicodedata
import uuid

import snowballstemmer
from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from .models import Category, FaqEntry

MAX_TERMS = 12
# PostgreSQL's French stop words (snowball's list), without accents like everything searched here.
_STOP_WORDS = """
au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me meme mes moi mon ne
nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre vous c d
j l a m n s t y ete etee etees etes etant etante etants etantes suis es est sommes sont serai seras sera
serons serez seront serais serait serions seriez seraient etais etait etions etiez etaient fus fut fumes futes
furent sois soit soyons soyez soient fusse fusses fussions fussiez fussent ayant ayante ayantes ayants eu eue
eues eus ai as avons avez ont aurai auras aura aurons aurez auront aurais aurait aurions auriez auraient avais
avait avions aviez avaient eut eumes eutes eurent aie aies ait ayons ayez aient eusse eusses eussions eussiez
eussent
"""
# Words of questions rather than of subjects: « comment » would match most of a FAQ.
_QUESTION_WORDS = """
comment pourquoi quoi quel quelle quels quelles quand combien faire fait faut peut peux peuvent puis dois doit
ca cela ceci
"""
STOP_WORDS = frozenset(_STOP_WORDS.split()) | frozenset(_QUESTION_WORDS.split())
# The word being typed is a prefix only from this length: « pa » would match half the FAQ.
MIN_PREFIX = 3
_WORD = re.compile(r"[a-z0-9]+")


def normalise(value: str) -> str:
    """Lower case, no accents, words separated by single spaces (what the index holds)."""
    decomposed = unicodedata.normalize("NFKD", value.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(plain.replace("œ", "oe").replace("æ", "ae")))


def terms(query: str) -> list[str]:
    """The words of a query worth searching for: no stop words, no single letters, no repeats."""
    seen: list[str] = []
    for word in normalise(query).split():
        if len(word) > 1 and word not in STOP_WORDS and word not in seen:
            seen.append(word)
    return seen[:MAX_TERMS]


@functools.cache
def _stemmer():
    return snowballstemmer.stemmer("french")


def prefix_of(word: str) -> str:
    """The stem of ``word`` cut to a prefix of the word itself (« mots » -> « mot », « oubliés » -> « oubl »)."""
    stem = _stemmer().stemWord(word)
    length = 0
    while length < min(len(word), len(stem)) and word[length] == stem[length]:
        length += 1
    return word[:length] if length >= 3 else word


def search(session: Session, query: str, *, category_id: uuid.UUID | None = None,
           limit: int = 10) -> list[FaqEntry]:
    """Active FAQ entries (of active categories) matching ``query``, the most relevant first."""
    words = terms(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _postgres(session, words, category_id, limit)
    ids = _sqlite(session, words, category_id, limit)
    if not ids:
        return []
    entries = {e.id: e for e in session.execute(select(FaqEntry).where(FaqEntry.id.in_(ids))).scalars()}
    return [entries[i] for i in ids if i in entries]


def _postgres(session: Session, words: list[str], category_id: uuid.UUID | None, limit: int) -> list[FaqEntry]:
    """Questions (and keywords) that match, best first; then, to fill the list, entries whose answer
    alone matches, in the FAQ's order. Ranking only the small question vectors keeps a search over a
    large FAQ in a few milliseconds, whatever common word the answers share."""
    # Whole words are matched by their stem (PostgreSQL stems them), the last one also as a prefix
    # since it may be unfinished. Words are [a-z0-9]+ (normalise): no tsquery operator can slip in.
    *whole, last = words
    typed = f"{last}:*" if len(last) >= MIN_PREFIX else last
    query = func.to_tsquery("french", " | ".join([*whole, typed]))
    in_question = literal_column("faq_entries.question_vector").op("@@")(query)
    in_answer = literal_column("faq_entries.answer_vector").op("@@")(query)
    visible = [FaqEntry.active.is_(True), Category.active.is_(True)]
    if category_id is not None:
        visible.append(FaqEntry.category_id == category_id)
    base = select(FaqEntry).join(Category, Category.id == FaqEntry.category_id).where(*visible)
    rank = func.ts_rank(literal_column("faq_entries.question_vector"), query)
    found = list(session.execute(base.where(in_question).order_by(rank.desc(), FaqEntry.position, FaqEntry.id)
                                 .limit(limit)).scalars())
    if len(found) < limit:
        found += session.execute(base.where(in_answer, ~in_question)
                                 .order_by(Category.position, FaqEntry.position, FaqEntry.id)
                                 .limit(limit - len(found))).scalars()
    return found


_SQLITE_SEARCH = """
SELECT faq_search.entry_id FROM faq_search
JOIN faq_entries ON faq_entries.id = faq_search.entry_id
JOIN categories ON categories.id = faq_entries.category_id
WHERE faq_search MATCH :match AND faq_entries.active = 1 AND categories.active = 1 {category}
ORDER BY bm25(faq_search, 0.0, 10.0, 2.0), faq_entries.position, faq_entries.id
LIMIT :limit
"""


def _sqlite(session: Session, words: list[str], category_id: uuid.UUID | None, limit: int) -> list[uuid.UUID]:
    # FTS5 does not stem: each word matches as the prefix its stem gives (« mots » -> mot*), which
    # also finds the other forms of the word; a short unfinished word matches as it is.
    *whole, last = words
    match = " OR ".join([*(f'"{prefix_of(word)}"*' for word in whole),
                         f'"{prefix_of(last)}"*' if len(last) >= MIN_PREFIX else f'"{last}"'])
    sql = _SQLITE_SEARCH.format(category="AND faq_entries.category_id = :category" if category_id else "")
    params: dict = {"match": match, "limit": limit}
    if category_id is not None:
        params["category"] = category_id.hex  # how SQLAlchemy stores a Uuid on SQLite
    rows = session.execute(text(sql), params).scalars()
    return [uuid.UUID(value) for value in rows]


def index_fields(question: str, keywords: str, answer: str) -> dict[str, str]:
    """The search columns of an entry: what the index is built from."""
    return {"search_question": normalise(f"{question} {keywords}"), "search_answer": normalise(answer)}
