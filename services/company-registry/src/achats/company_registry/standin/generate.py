"""Generate the shipped dataset of the INSEE stand-in, `sirene-dataset.json.gz` (run once; the output is committed).

    python -m achats.company_registry.standin.generate            # rewrite the file
    python -m achats.company_registry.standin.generate --check    # exit 1 if the file is not what this code writes

The output is byte-for-byte reproducible: seeded random, insertion-ordered JSON, gzip without a timestamp.
"""

# Seeded `random` is what makes the records reproducible; nothing here is a secret.
# ruff: noqa: S311

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import random
import sys
from pathlib import Path
from typing import Any

from stdnum import luhn
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from achats.company_registry.standin import dataset as ds
from achats.company_registry.standin.factory import Factory
from achats.company_registry.standin.records import (
    LA_POSTE_SIREN,
    address,
    build_establishment,
    build_unit,
    nic_for,
)
from achats.company_registry.standin.vocabulary import COMMUNES

SEED = 311
RANDOM_UNITS = {"company": 128, "sole_trader": 38, "partial": 6, "association": 10, "commune": 6, "closed": 2}
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def commune(name: str) -> tuple[str, str, str]:
    return next(c for c in COMMUNES if c[0] == name)


def ccas_metz() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The sample of the reference file, field for field; the rest of the keys follow the API."""
    unit = build_unit(
        ds.CCAS_METZ_SIREN,
        segments=[
            (
                "2004-02-01",
                {
                    "etatAdministratifUniteLegale": "A",
                    "denominationUniteLegale": "CENTRE COMMUNAL D'ACTION SOCIALE",
                    "categorieJuridiqueUniteLegale": "7361",
                    "activitePrincipaleUniteLegale": "85.3K",
                    "nomenclatureActivitePrincipaleUniteLegale": "NAFRev1",
                    "nicSiegeUniteLegale": "00148",
                    "economieSocialeSolidaireUniteLegale": "N",
                    "caractereEmployeurUniteLegale": "O",
                },
            ),
            (
                "2008-01-01",
                {"activitePrincipaleUniteLegale": "88.99B", "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2"},
            ),
        ],
        created="2004-02-01",
        sigle="CCAS",
        tranche="21",
        annee_effectifs="2021",
        categorie_entreprise="PME",
        annee_categorie="2019",
        processed="2023-03-21T14:06:02.000",
    )
    establishment = build_establishment(
        ds.CCAS_METZ_SIREN,
        "00148",
        segments=[
            (
                "2004-12-25",
                {
                    "etatAdministratifEtablissement": "A",
                    "activitePrincipaleEtablissement": "85.3K",
                    "nomenclatureActivitePrincipaleEtablissement": "NAFRev1",
                    "caractereEmployeurEtablissement": "O",
                },
            ),
            (
                "2008-01-01",
                {"activitePrincipaleEtablissement": "88.99B", "nomenclatureActivitePrincipaleEtablissement": "NAFRev2"},
            ),
        ],
        created="2004-02-01",
        siege=True,
        adresse=address(
            complementAdresseEtablissement="22-24",
            numeroVoieEtablissement="22",
            typeVoieEtablissement="RUE",
            libelleVoieEtablissement="DU WAD BILLY",
            codePostalEtablissement="57000",
            libelleCommuneEtablissement="METZ",
            codeCommuneEtablissement="57463",
        ),
        tranche="12",
        annee_effectifs="2021",
        processed="2023-03-21T14:06:02.000",
    )
    return unit, [establishment]


def la_poste(rng: random.Random) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """La Poste: exploitant public (4130) until it became a SA on 1 March 2010; SIRETs follow the digit-sum rule."""
    make = Factory(rng)
    unit = build_unit(
        LA_POSTE_SIREN,
        segments=[
            (
                "1991-01-01",
                {
                    "etatAdministratifUniteLegale": "A",
                    "denominationUniteLegale": "LA POSTE",
                    "categorieJuridiqueUniteLegale": "4130",
                    "activitePrincipaleUniteLegale": "64.1A",
                    "nomenclatureActivitePrincipaleUniteLegale": "NAFRev1",
                    "nicSiegeUniteLegale": "00048",
                    "economieSocialeSolidaireUniteLegale": "N",
                    "caractereEmployeurUniteLegale": "O",
                },
            ),
            (
                "2008-01-01",
                {"activitePrincipaleUniteLegale": "53.10Z", "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2"},
            ),
            ("2010-03-01", {"categorieJuridiqueUniteLegale": "5599", "societeMissionUniteLegale": "N"}),
        ],
        created="1991-01-01",
        tranche="53",
        annee_effectifs="2022",
        categorie_entreprise="GE",
        annee_categorie="2022",
        processed="2024-11-05T03:12:40.000",
    )
    head_office = make.establishment(
        unit,
        "00048",
        adresse=address(
            numeroVoieEtablissement="9",
            typeVoieEtablissement="RUE",
            libelleVoieEtablissement="DU COLONEL PIERRE AVIA",
            codePostalEtablissement="75015",
            libelleCommuneEtablissement="PARIS 15",
            codeCommuneEtablissement="75115",
        ),
    )
    offices = [
        head_office,
        make.establishment(unit, ds.LA_POSTE_SIRET[9:], adresse=make.french_address(commune("METZ"))),
    ]
    # A few more post offices, valid by the La Poste rule only: digit sum a multiple of 5.
    nic = 10000
    while len(offices) < 6:
        nic += rng.randint(1, 4000)
        siret = f"{LA_POSTE_SIREN}{nic:05d}"
        if sum(map(int, siret)) % 5 == 0 and siret[-2] != "9" and siret_number.is_valid(siret):
            offices.append(make.establishment(unit, siret[9:], enseigne="LA POSTE"))
    return unit, offices


def fixed_entries() -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Entries that never change whatever happens to the random part: each has its own seed."""

    def factory(name: str) -> Factory:
        return Factory(random.Random(f"sirene-standin/fixed/{name}"))

    entries = [ccas_metz(), la_poste(random.Random("sirene-standin/fixed/la-poste"))]

    make = factory("test-sarl")
    siren = ds.TEST_SARL_SIREN
    unit = make.unit(
        siren,
        nic_siege="00015",
        created="1993-04-15",
        naf="62.01Z",
        legal_form="5499",
        denomination="TEST",
        sigle=None,
        categorie="PME",
    )
    entries.append(
        (
            unit,
            [
                make.establishment(unit, "00015", adresse=make.french_address(commune("PARIS 8"))),
                make.establishment(unit, "00023", adresse=make.french_address(commune("LYON 3EME"))),
                make.establishment(
                    unit, "00031", closed_on="2021-06-30", adresse=make.french_address(commune("NANTES"))
                ),
            ],
        )
    )

    make = factory("sole-trader")
    unit = make.unit(
        ds.SOLE_TRADER_SIREN,
        kind="sole_trader",
        nic_siege="00017",
        created="2015-09-01",
        naf="74.10Z",
        person=("F", ["MARIE", "CLAIRE"], "DURAND"),
    )
    entries.append((unit, [make.establishment(unit, "00017", adresse=make.french_address(commune("LYON 3EME")))]))

    make = factory("partial")
    unit = make.unit(
        ds.PARTIAL_SIREN, kind="sole_trader", nic_siege="00016", created="2018-05-14", naf="96.02A", statut="P"
    )
    entries.append(
        (
            unit,
            [
                make.establishment(
                    unit, "00016", enseigne="SALON DU CENTRE", adresse=make.french_address(commune("RENNES"))
                )
            ],
        )
    )

    make = factory("closed-unit")
    unit = make.unit(
        ds.CLOSED_UNIT_SIREN,
        nic_siege="00011",
        created="2009-03-02",
        naf="43.32A",
        legal_form="5499",
        denomination="MENUISERIE LEROY",
        categorie="PME",
        closed_on="2022-09-30",
    )
    entries.append((unit, [make.establishment(unit, "00011"), make.establishment(unit, "00029")]))

    make = factory("foreign")
    unit = make.unit(
        ds.FOREIGN_SIREN,
        nic_siege="00014",
        created="2010-06-01",
        naf="49.41A",
        legal_form="5710",
        denomination="TRANSPORTS EUROPEENS DUBOIS",
        sigle="TED",
        categorie="ETI",
    )
    brussels = address(
        numeroVoieEtablissement="54",
        libelleVoieEtablissement="AVENUE LOUISE",
        libelleCommuneEtrangerEtablissement="1050 BRUXELLES",
        codePaysEtrangerEtablissement="99131",
        libellePaysEtrangerEtablissement="BELGIQUE",
    )
    entries.append(
        (
            unit,
            [
                make.establishment(unit, "00014", adresse=make.french_address(commune("STRASBOURG"))),
                make.establishment(unit, "00022", adresse=brussels),
            ],
        )
    )
    return entries


def random_siren(rng: random.Random, taken: set[str], kind: str) -> str:
    while True:
        first = "2" if kind == "commune" else str(rng.randint(3, 9))
        body = first + "".join(str(rng.randint(0, 9)) for _ in range(7))
        siren = body + luhn.calc_check_digit(body)
        if siren not in taken and not ds.reserved_unknown(siren) and siren != LA_POSTE_SIREN:
            taken.add(siren)
            return siren


def random_entries(taken: set[str]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    rng = random.Random(SEED)
    make = Factory(rng)
    entries = []
    for group, how_many in RANDOM_UNITS.items():
        for _ in range(how_many):
            kind = {"partial": "sole_trader", "closed": "company"}.get(group, group)
            siren = random_siren(rng, taken, kind)
            count = 1 if kind == "sole_trader" else rng.choice((1,) * 14 + (2,) * 4 + (3, 3, 4, 6))
            if kind == "commune":
                count = rng.choice((2, 3, 4))
            nics = [nic_for(siren, k) for k in range(1, count + 1)]
            created = make.date(1996, 2021)
            moved_on = None
            # Some head offices moved: the first establishment closed the day the second became the head office.
            if count >= 2 and kind == "company" and group != "closed" and rng.random() < 0.3:
                moved_on = make.date_after(created, 2023)
            closed_on = make.date_after(max(created, "2015-01-01"), 2024) if group == "closed" else None
            unit = make.unit(
                siren,
                kind=kind,
                nic_siege=nics[1] if moved_on else nics[0],
                previous_nic_siege=nics[0] if moved_on else None,
                moved_on=moved_on,
                created=created,
                statut="P" if group == "partial" else "O",
                closed_on=closed_on,
            )
            establishments = []
            for index, nic in enumerate(nics):
                est_closed = None
                if moved_on and index == 0:
                    est_closed = moved_on
                elif index > 0 and not (moved_on and index == 1) and rng.random() < 0.2:
                    est_closed = make.date_after(created, 2024)
                establishments.append(make.establishment(unit, nic, closed_on=est_closed))
            entries.append((unit, establishments))
    return entries


def build() -> dict[str, Any]:
    entries = fixed_entries()
    taken = {unit["siren"] for unit, _ in entries} | {ds.GENERATED_SIREN, ds.UNKNOWN_SIREN}
    entries += random_entries(taken)
    payload = {
        "description": "INSEE Sirene 3.11 stand-in dataset, generated by achats.company_registry.standin.generate",
        "seed": SEED,
        "unitesLegales": [unit for unit, _ in entries],
        "etablissements": [est for _, ests in entries for est in ests],
    }
    check(payload)
    return payload


def _codes(name: str) -> set[str]:
    with (DATA_DIR / name).open(encoding="utf-8") as stream:
        return {row["code"] for row in csv.DictReader(stream)}


def check(payload: dict[str, Any]) -> None:
    """Refuse to write a dataset that breaks the rules the stand-in and its users rely on."""
    naf, legal_forms = _codes("naf-rev2-sous-classes.csv"), _codes("categories-juridiques-n3.csv")
    units = {u["siren"]: u for u in payload["unitesLegales"]}
    assert len(units) == len(payload["unitesLegales"]), "duplicate SIREN"
    sirets = [e["siret"] for e in payload["etablissements"]]
    assert len(set(sirets)) == len(sirets), "duplicate SIRET"
    for siren, unit in units.items():
        assert siren_number.is_valid(siren), siren
        assert not ds.reserved_unknown(siren), siren
        for period in unit["periodesUniteLegale"]:
            assert period["categorieJuridiqueUniteLegale"] in legal_forms, (siren, period)
            if period["nomenclatureActivitePrincipaleUniteLegale"] == "NAFRev2":
                assert period["activitePrincipaleUniteLegale"] in naf, (siren, period)
        head_offices = [e for e in payload["etablissements"] if e["siren"] == siren and e["etablissementSiege"]]
        assert len(head_offices) == 1, siren
        # A living unit has a living head office.
        unit_state = unit["periodesUniteLegale"][0]["etatAdministratifUniteLegale"]
        head_office_state = head_offices[0]["periodesEtablissement"][0]["etatAdministratifEtablissement"]
        assert (unit_state, head_office_state) in (("A", "A"), ("C", "F")), siren
    for est in payload["etablissements"]:
        assert siret_number.is_valid(est["siret"]) and est["siren"] in units, est["siret"]
        assert not ds.reserved_unknown(est["siret"]), est["siret"]
        for period in est["periodesEtablissement"]:
            if period["nomenclatureActivitePrincipaleEtablissement"] == "NAFRev2":
                assert period["activitePrincipaleEtablissement"] in naf, (est["siret"], period)
    for name, siret in ds.FIXED.items():
        assert siret in sirets, name


def encode(payload: dict[str, Any]) -> bytes:
    raw = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as stream:
        stream.write(raw)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ds.DATASET_PATH)
    parser.add_argument("--check", action="store_true", help="compare with the existing file instead of writing")
    args = parser.parse_args(argv)
    payload = build()
    data = encode(payload)
    summary = f"{len(payload['unitesLegales'])} unités légales, {len(payload['etablissements'])} établissements"
    if args.check:
        same = args.output.exists() and args.output.read_bytes() == data
        print(f"{args.output}: {'up to date' if same else 'DIFFERS'} ({summary})")
        return 0 if same else 1
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({summary}, {len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
