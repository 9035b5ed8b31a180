"""The part of Sirene's multi-criteria syntax (`q=` on `/siret`) the stand-in understands, and how it matches.

Terms joined by ` AND `:
- `siren:123456789`, `siret:12345678901234`, `etablissementSiege:true|false`,
  `periode(etatAdministratifEtablissement:A|F)` (also accepted without `periode()`);
- text fields, `raisonSociale` (INSEE's search field over the unit's names: dénomination, dénominations
  usuelles, nom, nom d'usage), `denominationUniteLegale`, `libelleCommuneEtablissement`, whose value is a
  word (`TEST`), a prefix (`DANO*`), an approximate word (`DANONNE~`, `DANONNE~1`: at most 2 edits, or the
  number given, 0 to 2; swapping two neighbours is one edit, as in Lucene) or a phrase (`"SAINT DENIS"`);
  case and accents do not count;
- `codePostalEtablissement:75008` (or a prefix, `75*`).
A query names a siren, a siret or a name: the stand-in lists no whole country.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

_AND = re.compile(r'\s+AND\s+(?=(?:[^"]*"[^"]*")*[^"]*$)')
_TERM = re.compile(r'^(?:periode\((?P<state_field>etatAdministratifEtablissement):(?P<state>[AF])\)'
                   r"|etatAdministratifEtablissement:(?P<bare_state>[AF])"
                   r'|(?P<field>[A-Za-z0-9]+):(?P<value>"[^"]*"|\S+))$')
_WORD = re.compile(r"^(?P<word>[A-Za-z0-9À-ÿ]+)(?:(?P<star>\*)|~(?P<distance>[0-2])?(?P<fuzzy>))?$")
TEXT_FIELDS = {"raisonSociale": "names", "denominationUniteLegale": "denominations",
               "libelleCommuneEtablissement": "communes"}
NAME_KEYS = ("denominationUniteLegale", "denominationUsuelle1UniteLegale", "denominationUsuelle2UniteLegale",
             "denominationUsuelle3UniteLegale", "nomUniteLegale", "nomUsageUniteLegale")
HIDDEN = "[ND]"


def tokens(text: str | None) -> list[str]:
    """Words as the search index holds them: upper case, no accents, letters and digits."""
    if not text or text == HIDDEN:
        return []
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    return re.findall(r"[A-Z0-9]+", folded)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance where swapping two neighbours counts as one edit, as Lucene's fuzzy search does."""
    rows = [list(range(len(b) + 1))]
    for i, ca in enumerate(a, 1):
        row = [i]
        for j, cb in enumerate(b, 1):
            cost = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cost = min(cost, rows[i - 2][j - 2] + 1)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


@dataclass(frozen=True)
class Text:
    """One value of a text field: a word, a prefix, an approximate word or a phrase."""

    kind: str
    words: tuple[str, ...]
    distance: int = 0

    def score(self, haystack: list[str]) -> int:
        """0 when it does not match; higher the closer (an exact word beats an approximate one)."""
        if self.kind == "phrase":
            n = len(self.words)
            found = any(tuple(haystack[i:i + n]) == self.words for i in range(len(haystack) - n + 1))
            return 3 if found else 0
        word = self.words[0]
        if word in haystack:
            return 3
        if self.kind == "prefix":
            return 2 if any(h.startswith(word) for h in haystack) else 0
        if self.kind == "fuzzy" and any(edit_distance(word, h) <= self.distance for h in haystack):
            return 1
        return 0


@dataclass
class Query:
    siren: str | None = None
    siret: str | None = None
    siege: bool | None = None
    state: str | None = None
    postal_code: str | None = None
    names: list[Text] = field(default_factory=list)
    denominations: list[Text] = field(default_factory=list)
    communes: list[Text] = field(default_factory=list)

    def score(self, etablissement: dict[str, Any]) -> int:
        """0 when the establishment (its `uniteLegale` embedded) does not match; else how well it does."""
        if self.siege is not None and etablissement["etablissementSiege"] != self.siege:
            return 0
        if self.state and etablissement["periodesEtablissement"][0]["etatAdministratifEtablissement"] != self.state:
            return 0
        address = etablissement["adresseEtablissement"]
        if self.postal_code:
            code = address.get("codePostalEtablissement") or ""
            wanted = self.postal_code.rstrip("*")
            if not (code.startswith(wanted) if self.postal_code.endswith("*") else code == wanted):
                return 0
        unit = etablissement["uniteLegale"]
        total = 1
        for texts, haystack in (
            (self.names, [w for key in NAME_KEYS for w in tokens(unit.get(key))]),
            (self.denominations, tokens(unit.get("denominationUniteLegale"))),
            (self.communes, tokens(address.get("libelleCommuneEtablissement"))),
        ):
            for text in texts:
                points = text.score(haystack)
                if not points:
                    return 0
                total += points
        return total


def _text(value: str) -> Text | None:
    if value.startswith('"'):
        words = tuple(tokens(value.strip('"')))
        return Text("phrase", words) if words else None
    match = _WORD.match(value)
    if not match:
        return None
    found = tokens(match["word"])
    if len(found) != 1:
        return None
    word = found[0]
    if match["star"]:
        return Text("prefix", (word,))
    if match["fuzzy"] is not None:
        return Text("fuzzy", (word,), int(match["distance"] or 2))
    return Text("word", (word,))


def parse_query(q: str) -> Query | None:
    """The query, if it is within the subset above; None otherwise (INSEE's 400)."""
    query = Query()
    for raw in _AND.split(q.strip()):
        match = _TERM.match(raw.strip())
        if not match:
            return None
        if match["state"] or match["bare_state"]:
            query.state = match["state"] or match["bare_state"]
            continue
        name, value = match["field"], match["value"]
        if name in ("siren", "siret"):
            setattr(query, name, value)
        elif name == "etablissementSiege":
            if value not in ("true", "false"):
                return None
            query.siege = value == "true"
        elif name == "codePostalEtablissement":
            if not re.fullmatch(r"\d{1,5}\*?", value):
                return None
            query.postal_code = value
        elif name in TEXT_FIELDS:
            text = _text(value)
            if text is None:
                return None
            getattr(query, TEXT_FIELDS[name]).append(text)
        else:
            return None
    if not (query.siren or query.siret or query.names or query.denominations):
        return None
    return query
