"""The Sirene records the INSEE stand-in serves: the shipped dataset, plus deterministic records for other numbers.

Rules (documented in STANDIN.md):
- a number of the shipped dataset is served as shipped;
- a SIRET not in the dataset whose SIREN is in it is unknown (the dataset lists all establishments of its
  units), except for La Poste (SIREN 356000000), whose valid SIRETs all get a generated establishment;
- any other valid number gets a generated record, seeded by the number, so two calls answer the same;
- a valid number outside the dataset is nevertheless unknown (404) when its last-but-one digit is 9, and so is
  a SIRET whose SIREN is unknown, and SIREN 000000000;
- a 9/14-digit number that fails the Luhn check (La Poste rule included) is unknown (404), as with INSEE.
"""

# Seeded `random` is what makes the records reproducible; nothing here is a secret.
# ruff: noqa: S311

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Any

from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from achats.company_registry.standin.factory import Factory
from achats.company_registry.standin.records import LA_POSTE_SIREN, nic_for, with_unit

DATASET_PATH = Path(__file__).resolve().with_name("sirene-dataset.json.gz")

# Fixed entries: generate.py always writes them, other people's tests rely on them (see STANDIN.md).
CCAS_METZ_SIREN = "265701342"
CCAS_METZ_SIRET = "26570134200148"  # the sample of the reference file, field for field
TEST_SARL_SIREN = "390702009"  # 390702008 fails the Luhn check; 390702009 is the only valid 39070200x
TEST_SARL_SIRET = "39070200900015"  # head office, Paris 8
TEST_SARL_SECONDARY_SIRET = "39070200900023"  # active secondary establishment, Lyon
CLOSED_SIRET = "39070200900031"  # closed secondary establishment of the TEST SARL (F since 2021-06-30)
SOLE_TRADER_SIREN = "812345676"  # DURAND Marie Claire, entrepreneur individuel (1000)
SOLE_TRADER_SIRET = "81234567600017"
PARTIAL_SIREN = "841234560"  # sole trader with statutDiffusion P: names and street lines are [ND]
PARTIAL_SIRET = "84123456000016"
CLOSED_UNIT_SIREN = "444555668"  # ceased legal unit (C since 2022-09-30), both establishments F
CLOSED_UNIT_SIRET = "44455566800011"
FOREIGN_SIREN = "523187458"  # French SAS with a secondary establishment in Brussels
FOREIGN_HEAD_OFFICE_SIRET = "52318745800014"
FOREIGN_SIRET = "52318745800022"  # codePaysEtrangerEtablissement 99131, BELGIQUE
LA_POSTE_HEAD_OFFICE_SIRET = "35600000000048"
LA_POSTE_SIRET = "35600000049837"  # valid by the La Poste digit-sum rule, not by Luhn
NOT_DIFFUSIBLE_SIREN = "732829320"  # a unit that refused diffusion: INSEE answers 403 for it
NOT_DIFFUSIBLE_SIRET = "73282932000017"
GENERATED_SIREN = "123456782"  # not in the dataset: a generated unit
UNKNOWN_SIREN = "123456790"  # valid, last-but-one digit 9: 404
UNKNOWN_SIRET = "26570134200197"  # valid, SIREN of the dataset, not one of its establishments: 404

FIXED = {
    "ccas_metz": CCAS_METZ_SIRET,
    "test_sarl": TEST_SARL_SIRET,
    "test_sarl_secondary": TEST_SARL_SECONDARY_SIRET,
    "closed_establishment": CLOSED_SIRET,
    "sole_trader": SOLE_TRADER_SIRET,
    "partially_diffusible": PARTIAL_SIRET,
    "closed_unit": CLOSED_UNIT_SIRET,
    "foreign_head_office": FOREIGN_HEAD_OFFICE_SIRET,
    "foreign_address": FOREIGN_SIRET,
    "la_poste_head_office": LA_POSTE_HEAD_OFFICE_SIRET,
    "la_poste": LA_POSTE_SIRET,
}


def not_diffusible(number: str) -> bool:
    """Numbers INSEE refuses to disclose (403), as for units that opposed diffusion."""
    return number[:9] == NOT_DIFFUSIBLE_SIREN


def reserved_unknown(number: str) -> bool:
    """Valid numbers that are nevertheless unknown when they are not in the dataset: how tests reach a 404."""
    return number[-2] == "9" or number[:9] == "000000000"


def generated_unit(siren: str) -> dict[str, Any]:
    """The unit served for a valid SIREN outside the dataset; the same SIREN always gives the same unit."""
    rng = random.Random(f"sirene-standin/siren/{siren}")
    kind = "sole_trader" if rng.random() < 0.2 else "company"
    return Factory(rng).unit(siren, kind=kind, nic_siege=nic_for(siren, 1))


def generated_establishment_count(siren: str) -> int:
    return random.Random(f"sirene-standin/count/{siren}").choice((1, 1, 1, 2, 3))


def generated_establishment(siret: str, unit: dict[str, Any]) -> dict[str, Any]:
    """The establishment served for a valid SIRET outside the dataset, seeded by the SIRET."""
    rng = random.Random(f"sirene-standin/siret/{siret}")
    return Factory(rng).establishment(unit, siret[9:])


class SireneData:
    """Lookups by number, answering what INSEE would: a record, or None for « Aucun élément trouvé »."""

    def __init__(self, units: list[dict[str, Any]], establishments: list[dict[str, Any]]) -> None:
        self.units = {unit["siren"]: unit for unit in units}
        self.establishments = {est["siret"]: est for est in establishments}
        self._served: list[dict[str, Any]] | None = None
        self.sirets_by_siren: dict[str, list[str]] = {}
        for siret in sorted(self.establishments):
            self.sirets_by_siren.setdefault(siret[:9], []).append(siret)

    @classmethod
    def load(cls, path: Path = DATASET_PATH) -> SireneData:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            payload = json.load(stream)
        return cls(payload["unitesLegales"], payload["etablissements"])

    def unit(self, siren: str) -> dict[str, Any] | None:
        """`uniteLegale` of `GET /siren/{siren}`."""
        if not siren_number.is_valid(siren):
            return None
        if siren in self.units:
            return self.units[siren]
        if reserved_unknown(siren):
            return None
        return generated_unit(siren)

    def establishment(self, siret: str) -> dict[str, Any] | None:
        """`etablissement` of `GET /siret/{siret}`, with its `uniteLegale` embedded."""
        if not siret_number.is_valid(siret):
            return None
        siren = siret[:9]
        if siret in self.establishments:
            return with_unit(self.establishments[siret], self.units[siren])
        if reserved_unknown(siret):
            return None
        if siren in self.units and siren != LA_POSTE_SIREN:
            return None
        unit = self.unit(siren)
        if unit is None:
            return None
        return with_unit(generated_establishment(siret, unit), unit)

    def all_establishments(self) -> list[dict[str, Any]]:
        """Every establishment of the shipped dataset, as served (what a search by name looks through)."""
        if self._served is None:
            self._served = [with_unit(self.establishments[siret], self.units[siret[:9]])
                            for siret in sorted(self.establishments) if not not_diffusible(siret)]
        return self._served

    def establishments_of(self, siren: str) -> list[dict[str, Any]]:
        """The establishments `GET /siret?q=siren:…` lists, ordered by SIRET."""
        unit = self.unit(siren)
        if unit is None:
            return []
        if siren in self.units:
            sirets = self.sirets_by_siren.get(siren, [])
        else:
            count = generated_establishment_count(siren)
            sirets = [siren + nic_for(siren, k) for k in range(1, count + 1)]
        return [est for est in map(self.establishment, sirets) if est is not None]
