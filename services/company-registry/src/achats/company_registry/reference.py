"""INSEE nomenclatures shipped with the service: legal forms, NAF rev. 2, workforce ranges."""

from __future__ import annotations

import csv
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


@cache
def _table(name: str) -> dict[str, str]:
    with (DATA / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return {row[0].strip(): row[1].strip() for row in reader if row}


def legal_form_label(code: str | None) -> str | None:
    return _table("categories-juridiques-n3.csv").get(code or "")


def naf_label(code: str | None) -> str | None:
    return _table("naf-rev2-sous-classes.csv").get(code or "")


def workforce_label(code: str | None) -> str | None:
    return WORKFORCE_RANGES.get(code or "")
