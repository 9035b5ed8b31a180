"""The project's own RGAA audit (data/rgaa-audit.toml): the figures of the accessibility declaration."""

from __future__ import annotations

import datetime
import functools
import tomllib
from dataclasses import dataclass
from importlib import resources

STATUSES = ("conforme", "non conforme", "non applicable")


@dataclass(frozen=True)
class Audit:
    date: datetime.date
    referential: str
    total: int
    axe_core: str
    pages: tuple[str, ...]
    criteria: tuple[dict, ...]

    def count(self, status: str) -> int:
        return sum(1 for c in self.criteria if c["statut"] == status)

    @property
    def evaluated(self) -> int:
        return len(self.criteria)

    @property
    def rate(self) -> float:
        """RGAA's rate: criteria met among the applicable criteria evaluated, in per cent (one decimal)."""
        applicable = self.count("conforme") + self.count("non conforme")
        return round(100 * self.count("conforme") / applicable, 1) if applicable else 0.0

    def failing(self) -> list[dict]:
        return [c for c in self.criteria if c["statut"] == "non conforme"]


def parse(text: str) -> Audit:
    data = tomllib.loads(text)
    head = data["audit"]
    criteria = tuple(data.get("criteres", ()))
    for criterion in criteria:
        if criterion.get("statut") not in STATUSES:
            raise ValueError(f"criterion {criterion.get('numero')}: statut must be one of {STATUSES}")
    numbers = [c["numero"] for c in criteria]
    if len(set(numbers)) != len(numbers):
        raise ValueError("a criterion is listed twice")
    return Audit(date=head["date"], referential=head["referentiel"], total=int(head["criteres_total"]),
                 axe_core=head["axe_core"], pages=tuple(head["pages"]),
                 criteria=criteria)


@functools.cache
def load() -> Audit:
    return parse(resources.files("achats.web").joinpath("data/rgaa-audit.toml").read_text(encoding="utf-8"))
