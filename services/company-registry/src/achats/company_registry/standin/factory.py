"""Random but reproducible Sirene records (generate.py's dataset), made of vocabulary.py's words in
records.py's shapes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from achats.company_registry.standin.records import (
    address,
    build_establishment,
    build_unit,
    current_unit_period,
    day_before,
)
from achats.company_registry.standin.vocabulary import (
    COMMUNES,
    COMPANY_LEGAL_FORMS,
    COMPANY_SECTORS,
    COMPLEMENTS,
    ETI_TRANCHES,
    FIRST_NAMES,
    GE_TRANCHES,
    NAF_REV2_START,
    PME_TRANCHES,
    PREFIXES,
    SECTORS,
    SOLE_TRADER_SECTORS,
    STREET_TYPES,
    STREETS,
    SURNAMES,
    TRANCHE_ORDER,
)


@dataclass(frozen=True)
class _Who:
    """What a unit's kind decides (``Factory._who``)."""

    naf: str
    legal_form: str
    denomination: str | None
    sigle: str | None
    categorie: str | None
    tranche: str
    sexe: str | None = None
    prenoms: Sequence[str] = ()
    nom: str | None = None
    prenom_usuel: str | None = None
    association_id: str | None = None


class Factory:
    """Random but reproducible records: everything comes from the `random.Random` it is given."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    # --- small pieces -------------------------------------------------------------------------------------------
    def date(self, first_year: int, last_year: int) -> str:
        start = dt.date(first_year, 1, 1).toordinal()
        end = dt.date(last_year, 12, 31).toordinal()
        return dt.date.fromordinal(self.rng.randint(start, end)).isoformat()

    def date_between(self, first: str, last: str) -> str:
        start, end = dt.date.fromisoformat(first).toordinal(), dt.date.fromisoformat(last).toordinal()
        return dt.date.fromordinal(self.rng.randint(start, max(start, end))).isoformat()

    def date_after(self, iso_date: str, last_year: int = 2024) -> str:
        start = dt.date.fromisoformat(iso_date).toordinal() + 30
        end = max(start, dt.date(last_year, 12, 31).toordinal())
        return dt.date.fromordinal(self.rng.randint(start, end)).isoformat()

    def processed(self) -> str:
        day = self.date(2023, 2025)
        h, m, s = self.rng.randint(0, 23), self.rng.randint(0, 59), self.rng.randint(0, 59)
        return f"{day}T{h:02d}:{m:02d}:{s:02d}.000"

    def french_address(self, commune: tuple[str, str, str] | None = None) -> dict[str, Any]:
        rng = self.rng
        libelle, code_postal, code_commune = commune or rng.choice(COMMUNES)
        numero = str(rng.randint(1, 180)) if rng.random() < 0.93 else None
        indice = rng.choice(("B", "T")) if numero and rng.random() < 0.06 else None
        return address(
            complementAdresseEtablissement=rng.choice(COMPLEMENTS) if rng.random() < 0.15 else None,
            numeroVoieEtablissement=numero,
            indiceRepetitionEtablissement=indice,
            typeVoieEtablissement=rng.choice(STREET_TYPES),
            libelleVoieEtablissement=rng.choice(STREETS),
            codePostalEtablissement=code_postal,
            libelleCommuneEtablissement=libelle,
            distributionSpecialeEtablissement=f"BP {rng.randint(10, 999)}" if rng.random() < 0.04 else None,
            codeCommuneEtablissement=code_commune,
            identifiantAdresseEtablissement=(
                f"{code_commune}_{rng.randint(100, 9999):04d}_{int(numero or 0):05d}" if rng.random() < 0.7 else None
            ),
        )

    def tranche_for(self, categorie: str | None) -> str:
        if categorie == "GE":
            return self.rng.choice(GE_TRANCHES)
        if categorie == "ETI":
            return self.rng.choice(ETI_TRANCHES)
        return self.rng.choice(PME_TRANCHES)

    def smaller_tranche(self, tranche: str | None) -> str | None:
        if tranche in (None, "NN"):
            return tranche
        return self.rng.choice(TRANCHE_ORDER[1 : TRANCHE_ORDER.index(tranche) + 1])

    def company_name(self, naf: str) -> str:
        rng = self.rng
        word = rng.choice(SECTORS[naf][1])
        surname = rng.choice(SURNAMES)
        pattern = rng.randrange(6)
        if pattern == 0:
            return f"{word} {surname}"
        if pattern == 1:
            return f"{surname} ET FILS"
        if pattern == 2:
            return f"{rng.choice(PREFIXES)} {word}"
        if pattern == 3:
            return f"SOCIETE NOUVELLE DES ETABLISSEMENTS {surname}"
        if pattern == 4:
            return f"{surname} {rng.choice(SURNAMES)} ASSOCIES"
        return f"{word} {rng.choice(PREFIXES)}"

    # --- whole units --------------------------------------------------------------------------------------------
    def activity_segments(self, created: str, naf: str, prefix: str) -> list[tuple[str, dict[str, Any]]]:
        """Units and establishments created before 2008 were coded in NAF rév. 1 until 31 December 2007."""
        rev1 = SECTORS[naf][0]
        activity, nomenclature = f"activitePrincipale{prefix}", f"nomenclatureActivitePrincipale{prefix}"
        if rev1 and created < NAF_REV2_START:
            return [
                (created, {activity: rev1, nomenclature: "NAFRev1"}),
                (NAF_REV2_START, {activity: naf, nomenclature: "NAFRev2"}),
            ]
        return [(created, {activity: naf, nomenclature: "NAFRev2"})]

    def unit(
        self,
        siren: str,
        *,
        kind: str = "company",
        nic_siege: str,
        statut: str = "O",
        closed_on: str | None = None,
        created: str | None = None,
        naf: str | None = None,
        legal_form: str | None = None,
        denomination: str | None = None,
        sigle: str | None = None,
        categorie: str | None = None,
        person: tuple[str, Sequence[str], str] | None = None,
        previous_nic_siege: str | None = None,
        moved_on: str | None = None,
    ) -> dict[str, Any]:
        """A random unit; kind is company, sole_trader, association or commune.

        `person` is (sexe, prenoms, nom) of a sole trader; `previous_nic_siege` and `moved_on` say that the
        head office moved from that establishment on that day.
        """
        created = created or self.date(1996, 2023)
        who = self._who(kind, naf=naf, legal_form=legal_form, denomination=denomination, sigle=sigle,
                        categorie=categorie, person=person)
        naf, legal_form, denomination, tranche = who.naf, who.legal_form, who.denomination, who.tranche
        employer = "N" if tranche in ("NN", "00") else "O"
        base = {
            "etatAdministratifUniteLegale": "A",
            "nomUniteLegale": who.nom,
            "denominationUniteLegale": denomination if kind != "sole_trader" else None,
            "categorieJuridiqueUniteLegale": legal_form,
            "nicSiegeUniteLegale": nic_siege,
            "economieSocialeSolidaireUniteLegale": "O" if kind == "association" or legal_form == "5458" else "N",
            "societeMissionUniteLegale": "N" if kind == "company" else None,
            "caractereEmployeurUniteLegale": employer,
        }
        segments = self._unit_segments(kind, created, naf, legal_form, denomination, base, closed_on=closed_on,
                                       nic_siege=nic_siege, previous_nic_siege=previous_nic_siege, moved_on=moved_on)
        has_staff = tranche not in (None, "NN")
        year = self.rng.choice(("2021", "2022"))
        return build_unit(
            siren,
            segments=_merge_same_day(segments),
            statut=statut,
            created=created,
            sigle=who.sigle,
            sexe=who.sexe,
            prenoms=who.prenoms,
            prenom_usuel=who.prenom_usuel,
            association_id=who.association_id,
            tranche=tranche,
            annee_effectifs=year if has_staff else None,
            categorie_entreprise=who.categorie,
            annee_categorie=year if who.categorie else None,
            processed=self.processed(),
        )

    def _unit_segments(self, kind: str, created: str, naf: str, legal_form: str, denomination: str | None,
                       base: dict[str, Any], *, closed_on: str | None, nic_siege: str,
                       previous_nic_siege: str | None, moved_on: str | None) -> list[tuple[str, dict[str, Any]]]:
        """The unit's history, oldest first: its activity (NAF rév. 1 then 2), a change of legal form or name
        some companies had, a move of the head office, a closure."""
        rng = self.rng
        segments = self.activity_segments(created, naf, "UniteLegale")
        segments[0] = (segments[0][0], {**base, **segments[0][1]})
        # Some companies changed legal form (SARL -> SAS is the classic) or name since they were created.
        if kind == "company" and closed_on is None and rng.random() < 0.25 and created < "2019-01-01":
            change_on = self.date_after(max(created, "2010-01-01"), 2023)
            if legal_form == "5710":
                segments[0][1]["categorieJuridiqueUniteLegale"] = "5499"
                segments.append((change_on, {"categorieJuridiqueUniteLegale": "5710"}))
            else:
                segments[0][1]["denominationUniteLegale"] = self.company_name(naf)
                segments.append((change_on, {"denominationUniteLegale": denomination}))
        if previous_nic_siege and moved_on:
            segments[0][1]["nicSiegeUniteLegale"] = previous_nic_siege
            segments.append((moved_on, {"nicSiegeUniteLegale": nic_siege}))
        if closed_on:
            segments.append((closed_on, {"etatAdministratifUniteLegale": "C", "caractereEmployeurUniteLegale": "N"}))
        return sorted(segments, key=lambda s: s[0])

    def _who(self, kind: str, *, naf: str | None, legal_form: str | None, denomination: str | None,
             sigle: str | None, categorie: str | None, person: tuple[str, Sequence[str], str] | None) -> _Who:
        """What the kind of unit decides: its activity, legal form, name, category and workforce, and a sole
        trader's person (drawn in this order: the shipped dataset depends on it)."""
        rng = self.rng
        if kind == "sole_trader":
            naf = naf or rng.choice(SOLE_TRADER_SECTORS)
            sexe = rng.choice("MF")
            prenoms = [rng.choice(FIRST_NAMES[sexe]) for _ in range(rng.choice((1, 1, 2, 3)))]
            nom = rng.choice(SURNAMES)
            if person:
                sexe, prenoms, nom = person
            return _Who(naf, "1000", denomination, sigle, categorie or "PME", rng.choice(("NN", "NN", "00", "01")),
                        sexe=sexe, prenoms=prenoms, nom=nom, prenom_usuel=prenoms[0])
        if kind == "association":
            naf = naf or rng.choice(("94.99Z", "94.99Z", "85.59A", "90.01Z"))
            legal_form = legal_form or "9220"
            denomination = denomination or rng.choice(
                (
                    f"ASSOCIATION SPORTIVE DE {rng.choice(COMMUNES)[0]}",
                    f"COMITE DES FETES DE {rng.choice(COMMUNES)[0]}",
                    f"AMICALE DES {rng.choice(('ANCIENS ELEVES', 'SAPEURS POMPIERS', 'LOCATAIRES'))}",
                    f"LES AMIS DU {rng.choice(('PATRIMOINE', 'THEATRE', 'JARDIN'))}",
                )
            )
            association_id = f"W{rng.randint(100, 976):03d}{rng.randint(0, 999999):06d}"
            return _Who(naf, legal_form, denomination, sigle, categorie or "PME",
                        rng.choice(("NN", "00", "01", "02", "03", "11")), association_id=association_id)
        if kind == "commune":
            return _Who("84.11Z", "7210", denomination, sigle, categorie or "PME", rng.choice(("21", "22", "31", "32")))
        naf = naf or rng.choice(COMPANY_SECTORS)
        legal_form = legal_form or rng.choice(COMPANY_LEGAL_FORMS)
        denomination = denomination or self.company_name(naf)
        if sigle is None and rng.random() < 0.2:
            sigle = "".join(w[0] for w in denomination.split() if w not in ("ET", "DE", "DES", "DU"))[:6]
            sigle = sigle if len(sigle) >= 2 else None
        categorie = categorie or rng.choice(("PME",) * 16 + ("ETI",) * 3 + ("GE",))
        return _Who(naf, legal_form, denomination, sigle, categorie, self.tranche_for(categorie))

    def establishment(
        self,
        unit: dict[str, Any],
        nic: str,
        *,
        closed_on: str | None = None,
        adresse: dict[str, Any] | None = None,
        enseigne: str | None = None,
    ) -> dict[str, Any]:
        """A random establishment of `unit`; it is the head office when `nic` is the unit's `nicSiegeUniteLegale`."""
        rng = self.rng
        cur = current_unit_period(unit)
        siege = nic == cur["nicSiegeUniteLegale"]
        created, closed_on = self._establishment_dates(unit, nic, closed_on)
        naf = cur["activitePrincipaleUniteLegale"]
        if cur["nomenclatureActivitePrincipaleUniteLegale"] != "NAFRev2" or naf not in SECTORS:
            naf = "82.99Z"
        tranche = (
            unit["trancheEffectifsUniteLegale"] if siege else self.smaller_tranche(unit["trancheEffectifsUniteLegale"])
        )
        if enseigne is None and cur["categorieJuridiqueUniteLegale"] == "1000" and rng.random() < 0.6:
            enseigne = f"{rng.choice(SECTORS[naf][1])} {rng.choice(('DU CENTRE', 'DE LA GARE', 'DES HALLES', 'PLUS'))}"
        segments = self.activity_segments(created, naf, "Etablissement")
        segments[0] = (
            segments[0][0],
            {
                **segments[0][1],
                "etatAdministratifEtablissement": "A",
                "enseigne1Etablissement": enseigne,
                "caractereEmployeurEtablissement": "N" if tranche in (None, "NN", "00") else "O",
            },
        )
        if closed_on:
            segments.append(
                (closed_on, {"etatAdministratifEtablissement": "F", "caractereEmployeurEtablissement": "N"})
            )
        has_staff = tranche not in (None, "NN")
        return build_establishment(
            unit["siren"],
            nic,
            segments=_merge_same_day(sorted(segments, key=lambda s: s[0])),
            statut=unit["statutDiffusionUniteLegale"],
            created=created,
            siege=siege,
            adresse=adresse or self.french_address(),
            tranche=tranche,
            annee_effectifs=unit["anneeEffectifsUniteLegale"] if has_staff else None,
            processed=self.processed(),
        )


    def _establishment_dates(self, unit: dict[str, Any], nic: str, closed_on: str | None) -> tuple[str, str | None]:
        """When the establishment opened and, if it did, closed: the unit's first establishment opens with it, the
        others while the unit is alive and before they become the head office; a ceased unit's are all closed."""
        history = unit["periodesUniteLegale"]
        unit_created = unit["dateCreationUniteLegale"]
        ceased_on = min(
            (p["dateDebut"] for p in history if p["etatAdministratifUniteLegale"] == "C"),
            default=None,
        )
        became_head_office = min(
            (p["dateDebut"] for p in history if p["changementNicSiegeUniteLegale"] and p["nicSiegeUniteLegale"] == nic),
            default=None,
        )
        if nic == history[-1]["nicSiegeUniteLegale"]:
            created = unit_created
        else:
            latest = min(d for d in (became_head_office, ceased_on, "2024-01-01") if d is not None)
            created = self.date_between(unit_created, day_before(latest))
        if ceased_on:
            # Every establishment of a ceased unit is closed, on the day the unit ceased at the latest.
            closed_on = min(closed_on or ceased_on, ceased_on)
        if closed_on and closed_on <= created:
            closed_on = self.date_after(created, 2024)
        return created, closed_on


def _merge_same_day(segments: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Two changes on the same day make one period, as in the register."""
    out: list[tuple[str, dict[str, Any]]] = []
    for start, changes in segments:
        if out and out[-1][0] == start:
            out[-1] = (start, {**out[-1][1], **changes})
        else:
            out.append((start, dict(changes)))
    return out
