"""INSEE nomenclatures shipped with the service: legal forms, NAF rev. 2, workforce ranges; searched and resolved.

One source for the manual form (« Forme juridique », « Code APE / NAF / NACE » typed as people know
them: « SARL », « 8299 ») and for the choosers of the web form (the reference endpoints).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data"

WORKFORCE_RANGES = {
    "NN": "Unité non employeuse", "00": "0 salarié", "01": "1 ou 2 salariés", "02": "3 à 5 salariés",
    "03": "6 à 9 salariés", "11": "10 à 19 salariés", "12": "20 à 49 salariés", "21": "50 à 99 salariés",
    "22": "100 à 199 salariés", "31": "200 à 249 salariés", "32": "250 à 499 salariés",
    "41": "500 à 999 salariés", "42": "1 000 à 1 999 salariés", "51": "2 000 à 4 999 salariés",
    "52": "5 000 à 9 999 salariés", "53": "10 000 salariés et plus",
}

# The usual abbreviations and names of the commonest legal forms, each given the code INSEE files a
# company of that form under when nothing more specific is declared (« sans autre indication »).
# An EURL is a SARL with one partner, an SASU an SAS with one, an EIRL or a micro-entrepreneur an
# entrepreneur individuel: INSEE gives them the same codes. Ambiguous words (SCOP: SARL, SA à
# conseil or SA à directoire) are left out: a search lists the candidates instead.
USUAL_LEGAL_FORMS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "1000": (("EI", "EIRL"), ("entreprise individuelle", "entrepreneur individuel à responsabilité limitée",
                              "micro-entreprise", "micro-entrepreneur", "auto-entrepreneur", "auto-entreprise")),
    "5202": (("SNC",), ()),
    "5306": (("SCS",), ()),
    "5308": (("SCA",), ()),
    "5385": (("SELCA",), ()),
    "5485": (("SELARL", "SELARLU", "SELURL"), ()),
    "5499": (("SARL", "EURL", "SARLU"), ("société à responsabilité limitée",
                                         "entreprise unipersonnelle à responsabilité limitée")),
    "5585": (("SELAFA",), ()),
    "5599": (("SA",), ("société anonyme",)),
    "5710": (("SAS", "SASU"), ("société par actions simplifiée", "société par actions simplifiée unipersonnelle")),
    "5785": (("SELAS", "SELASU"), ()),
    "5800": (("SE",), ()),
    "6210": (("GEIE",), ()),
    "6220": (("GIE",), ("groupement d'intérêt économique",)),
    "6533": (("GAEC",), ()),
    "6540": (("SCI",), ()),
    "6585": (("SCP",), ("société civile professionnelle",)),
    "6589": (("SCM",), ()),
    "6598": (("EARL",), ()),
    "6599": (("SC",), ("société civile",)),
    "9220": ((), ("association", "association loi 1901", "association loi de 1901")),
}

# Words a query may contain that say nothing about which entry is meant.
STOP_WORDS = {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "ou", "par", "pour"}
# Parts of INSEE's labels that no one types: « Société à responsabilité limitée (sans autre indication) ».
_UNSAID = re.compile(r"\((?:sans autre indication|s\.a\.i\.?)\)", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower case, no accents, words separated by single spaces: how people's and INSEE's texts compare."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.findall(r"[a-z0-9]+", text))


def compact(text: str) -> str:
    """Letters and digits only: « 82.99z », « 82 99 Z » and « 8299Z » are one code, « S.A.R.L. » is « sarl »."""
    return fold(text).replace(" ", "")


@dataclass(frozen=True)
class Entry:
    code: str
    label: str
    abbreviations: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    def shape(self) -> dict:
        item: dict = {"code": self.code, "label": self.label}
        if self.abbreviations:
            item["abbreviations"] = list(self.abbreviations)
        return item


class Nomenclature:
    """One list (legal forms, NAF sub-classes), searchable by code, label, abbreviation or usual name."""

    def __init__(self, entries: tuple[Entry, ...]):
        self.entries = entries
        self.by_code = {e.code: e for e in entries}
        self._index = []
        for entry in entries:
            words = set(fold(" ".join((entry.code, entry.label, *entry.abbreviations, *entry.names))).split())
            words.add(compact(entry.code))
            self._index.append((entry, words, fold(_UNSAID.sub("", entry.label))))

    def get(self, code: str | None) -> Entry | None:
        return self.by_code.get(code or "")

    def search(self, query: str | None) -> list[Entry]:
        """Entries whose code, label, abbreviations or usual names hold every word of the query (as a
        word's beginning), best first: the code itself, an abbreviation, a label starting so, then by code."""
        if not query or not fold(query):
            return list(self.entries)
        words = fold(query).split()
        meaningful = [w for w in words if w not in STOP_WORDS] or words
        whole, squeezed = fold(query), compact(query)
        found = []
        for entry, haystack, label in self._index:
            code = compact(entry.code)
            if not (code.startswith(squeezed) or all(any(h.startswith(w) for h in haystack) for w in meaningful)):
                continue
            rank = (0 if code == squeezed else
                    1 if squeezed in {compact(a) for a in entry.abbreviations} else
                    2 if code.startswith(squeezed) else
                    3 if whole in {fold(n) for n in entry.names} or label == whole else
                    4 if label.startswith(whole) else 5)
            found.append((rank, entry.code, entry))
        return [entry for _, _, entry in sorted(found, key=lambda item: item[:2])]


class Unresolved(ValueError):
    """A typed value names no entry, or several: ``candidates`` are the closest entries (maybe none)."""

    def __init__(self, value: str, candidates: list[Entry]):
        super().__init__(value)
        self.value, self.candidates = value, candidates


@cache
def _rows(name: str) -> tuple[tuple[str, str], ...]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return tuple((row[0].strip(), row[1].strip()) for row in reader if row)


@cache
def legal_forms() -> Nomenclature:
    return Nomenclature(tuple(Entry(code, label, *USUAL_LEGAL_FORMS.get(code, ((), ())))
                              for code, label in _rows("categories-juridiques-n3.csv")))


@cache
def naf_codes() -> Nomenclature:
    return Nomenclature(tuple(Entry(code, label) for code, label in _rows("naf-rev2-sous-classes.csv")))


def legal_form_label(code: str | None) -> str | None:
    entry = legal_forms().get(code)
    return entry.label if entry else None


def naf_label(code: str | None) -> str | None:
    entry = naf_codes().get(code)
    return entry.label if entry else None


def workforce_label(code: str | None) -> str | None:
    return WORKFORCE_RANGES.get(code or "")


def legal_form_code(value: str) -> str:
    """The INSEE code of a legal form typed as its code, usual abbreviation, usual name or INSEE label."""
    table = legal_forms()
    squeezed, whole = compact(value), fold(value)
    for entry in table.entries:
        if (squeezed == entry.code or squeezed in {compact(a) for a in entry.abbreviations}
                or whole in {fold(n) for n in entry.names}
                or whole in {fold(entry.label), fold(_UNSAID.sub("", entry.label))}):
            return entry.code
    raise Unresolved(value, [] if squeezed.isdigit() else table.search(value)[:5])


NAF_CODE = re.compile(r"^(\d{2})(\d{2})([a-z])?$")


def naf_code(value: str, *, nace_class: bool = False) -> str:
    """The NAF rev. 2 sub-class (« 82.99Z ») of a code typed with or without its dot, letter or case,
    or of its exact label. With ``nace_class``, a NACE class (« 10.71 », four digits) that several
    sub-classes share is kept as the class (a foreign company declares its NACE code)."""
    table = naf_codes()
    squeezed = compact(value)
    match = NAF_CODE.match(squeezed)
    if match:
        division, group, letter = match.groups()
        under = [e for e in table.entries if compact(e.code).startswith(division + group)]
        exact = [e for e in under if letter and compact(e.code) == squeezed]
        if exact:
            return exact[0].code
        if not letter and len(under) == 1:
            return under[0].code
        if not letter and under and nace_class:
            return f"{division}.{group}"
        raise Unresolved(value, under[:10])
    whole = fold(value)
    for entry in table.entries:
        if fold(entry.label) == whole:
            return entry.code
    raise Unresolved(value, table.search(value)[:5])
