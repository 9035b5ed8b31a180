"""Builders of Sirene 3.11 records (unités légales, établissements) in the exact JSON shape of the API.

The words and codes random records are drawn from: vocabulary.py; the random records themselves: factory.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from stdnum import luhn

ND = "[ND]"
LA_POSTE_SIREN = "356000000"

# Key order of the real payloads: clients do not care, but people diffing against the real API do.
UNIT_PERIOD_KEYS = (
    "dateFin",
    "dateDebut",
    "etatAdministratifUniteLegale",
    "changementEtatAdministratifUniteLegale",
    "nomUniteLegale",
    "changementNomUniteLegale",
    "nomUsageUniteLegale",
    "changementNomUsageUniteLegale",
    "denominationUniteLegale",
    "changementDenominationUniteLegale",
    "denominationUsuelle1UniteLegale",
    "denominationUsuelle2UniteLegale",
    "denominationUsuelle3UniteLegale",
    "changementDenominationUsuelleUniteLegale",
    "categorieJuridiqueUniteLegale",
    "changementCategorieJuridiqueUniteLegale",
    "activitePrincipaleUniteLegale",
    "nomenclatureActivitePrincipaleUniteLegale",
    "changementActivitePrincipaleUniteLegale",
    "nicSiegeUniteLegale",
    "changementNicSiegeUniteLegale",
    "economieSocialeSolidaireUniteLegale",
    "changementEconomieSocialeSolidaireUniteLegale",
    "societeMissionUniteLegale",
    "changementSocieteMissionUniteLegale",
    "caractereEmployeurUniteLegale",
    "changementCaractereEmployeurUniteLegale",
)
UNIT_FLAGS = {
    "changementEtatAdministratifUniteLegale": ("etatAdministratifUniteLegale",),
    "changementNomUniteLegale": ("nomUniteLegale",),
    "changementNomUsageUniteLegale": ("nomUsageUniteLegale",),
    "changementDenominationUniteLegale": ("denominationUniteLegale",),
    "changementDenominationUsuelleUniteLegale": (
        "denominationUsuelle1UniteLegale",
        "denominationUsuelle2UniteLegale",
        "denominationUsuelle3UniteLegale",
    ),
    "changementCategorieJuridiqueUniteLegale": ("categorieJuridiqueUniteLegale",),
    "changementActivitePrincipaleUniteLegale": (
        "activitePrincipaleUniteLegale",
        "nomenclatureActivitePrincipaleUniteLegale",
    ),
    "changementNicSiegeUniteLegale": ("nicSiegeUniteLegale",),
    "changementEconomieSocialeSolidaireUniteLegale": ("economieSocialeSolidaireUniteLegale",),
    "changementSocieteMissionUniteLegale": ("societeMissionUniteLegale",),
    "changementCaractereEmployeurUniteLegale": ("caractereEmployeurUniteLegale",),
}
ESTABLISHMENT_PERIOD_KEYS = (
    "dateFin",
    "dateDebut",
    "etatAdministratifEtablissement",
    "changementEtatAdministratifEtablissement",
    "enseigne1Etablissement",
    "enseigne2Etablissement",
    "enseigne3Etablissement",
    "changementEnseigneEtablissement",
    "denominationUsuelleEtablissement",
    "changementDenominationUsuelleEtablissement",
    "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
    "changementActivitePrincipaleEtablissement",
    "caractereEmployeurEtablissement",
    "changementCaractereEmployeurEtablissement",
)
ESTABLISHMENT_FLAGS = {
    "changementEtatAdministratifEtablissement": ("etatAdministratifEtablissement",),
    "changementEnseigneEtablissement": (
        "enseigne1Etablissement",
        "enseigne2Etablissement",
        "enseigne3Etablissement",
    ),
    "changementDenominationUsuelleEtablissement": ("denominationUsuelleEtablissement",),
    "changementActivitePrincipaleEtablissement": (
        "activitePrincipaleEtablissement",
        "nomenclatureActivitePrincipaleEtablissement",
    ),
    "changementCaractereEmployeurEtablissement": ("caractereEmployeurEtablissement",),
}
ADDRESS_KEYS = (
    "complementAdresseEtablissement",
    "numeroVoieEtablissement",
    "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement",
    "indiceRepetitionDernierNumeroVoieEtablissement",
    "typeVoieEtablissement",
    "libelleVoieEtablissement",
    "codePostalEtablissement",
    "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement",
    "distributionSpecialeEtablissement",
    "codeCommuneEtablissement",
    "codeCedexEtablissement",
    "libelleCedexEtablissement",
    "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement",
    "identifiantAdresseEtablissement",
    "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement",
)
ADDRESS2_KEYS = (
    "complementAdresse2Etablissement",
    "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement",
    "typeVoie2Etablissement",
    "libelleVoie2Etablissement",
    "codePostal2Etablissement",
    "libelleCommune2Etablissement",
    "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement",
    "codeCommune2Etablissement",
    "codeCedex2Etablissement",
    "libelleCedex2Etablissement",
    "codePaysEtranger2Etablissement",
    "libellePaysEtranger2Etablissement",
)
# What a partially diffusible (`P`) unit or establishment hides: the person and the street, never the commune.
# Keys in the first tuple of each pair are always [ND]; those in the second only when they have a value.
ND_UNIT_KEYS = (
    ("sexeUniteLegale", "prenom1UniteLegale", "prenomUsuelUniteLegale"),
    ("prenom2UniteLegale", "prenom3UniteLegale", "prenom4UniteLegale", "pseudonymeUniteLegale"),
)
ND_UNIT_PERIOD_KEYS = (("nomUniteLegale",), ("nomUsageUniteLegale",))
ND_ADDRESS_KEYS = (
    ("numeroVoieEtablissement", "typeVoieEtablissement", "libelleVoieEtablissement"),
    (
        "complementAdresseEtablissement",
        "indiceRepetitionEtablissement",
        "distributionSpecialeEtablissement",
        "identifiantAdresseEtablissement",
        "coordonneeLambertAbscisseEtablissement",
        "coordonneeLambertOrdonneeEtablissement",
    ),
)
ND_ESTABLISHMENT_PERIOD_KEYS = (
    (),
    ("enseigne1Etablissement", "enseigne2Etablissement", "denominationUsuelleEtablissement"),
)



def nic_for(siren: str, k: int) -> str:
    """The k-th NIC (1-based) giving a Luhn-valid SIRET, skipping NICs whose last-but-one digit is 9.

    Those are reserved for « unknown » numbers (see dataset.py), so every NIC handed out here stays findable.
    """
    found = 0
    counter = 0
    while True:
        counter += 1
        body = f"{counter:04d}"
        if body[-1] == "9":
            continue
        found += 1
        if found == k:
            return body + luhn.calc_check_digit(siren + body)


def day_before(iso_date: str) -> str:
    return (dt.date.fromisoformat(iso_date) - dt.timedelta(days=1)).isoformat()


def periods(segments: Sequence[tuple[str, dict[str, Any]]], keys: Sequence[str], flags: dict[str, tuple[str, ...]]):
    """Turn a timeline (oldest first; each segment lists what changed on its start date) into API periods.

    The API lists periods newest first, the current one with `dateFin` null, and flags each change against
    the period before it.
    """
    values: dict[str, Any] = dict.fromkeys(k for k in keys if k not in flags and k not in ("dateFin", "dateDebut"))
    states = []
    for start, changes in segments:
        values = {**values, **changes}
        states.append((start, values))
    out = []
    for index, (start, state) in enumerate(states):
        previous = states[index - 1][1] if index else None
        end = day_before(states[index + 1][0]) if index + 1 < len(states) else None
        period: dict[str, Any] = {}
        for key in keys:
            if key == "dateFin":
                period[key] = end
            elif key == "dateDebut":
                period[key] = start
            elif key in flags:
                period[key] = previous is not None and any(state[f] != previous[f] for f in flags[key])
            else:
                period[key] = state[key]
        out.append(period)
    out.reverse()
    return out


def build_unit(
    siren: str,
    *,
    segments: Sequence[tuple[str, dict[str, Any]]],
    statut: str = "O",
    created: str,
    sigle: str | None = None,
    sexe: str | None = None,
    prenoms: Sequence[str] = (),
    prenom_usuel: str | None = None,
    association_id: str | None = None,
    tranche: str | None = None,
    annee_effectifs: str | None = None,
    categorie_entreprise: str | None = None,
    annee_categorie: str | None = None,
    processed: str,
) -> dict[str, Any]:
    """An `uniteLegale` exactly as `GET /siren/{siren}` returns it."""
    history = periods(segments, UNIT_PERIOD_KEYS, UNIT_FLAGS)
    prenoms = [*prenoms, None, None, None, None][:4]
    unit = {
        "siren": siren,
        "statutDiffusionUniteLegale": statut,
        "unitePurgeeUniteLegale": None,
        "dateCreationUniteLegale": created,
        "sigleUniteLegale": sigle,
        "sexeUniteLegale": sexe,
        "prenom1UniteLegale": prenoms[0],
        "prenom2UniteLegale": prenoms[1],
        "prenom3UniteLegale": prenoms[2],
        "prenom4UniteLegale": prenoms[3],
        "prenomUsuelUniteLegale": prenom_usuel,
        "pseudonymeUniteLegale": None,
        "identifiantAssociationUniteLegale": association_id,
        "trancheEffectifsUniteLegale": tranche,
        "anneeEffectifsUniteLegale": annee_effectifs,
        "dateDernierTraitementUniteLegale": processed,
        "nombrePeriodesUniteLegale": len(history),
        "categorieEntreprise": categorie_entreprise,
        "anneeCategorieEntreprise": annee_categorie,
        "periodesUniteLegale": history,
    }
    if statut == "P":
        # The API replaces what the person asked to hide by the string [ND], keeping the key.
        _hide(unit, ND_UNIT_KEYS)
        for period in history:
            _hide(period, ND_UNIT_PERIOD_KEYS)
    return unit


def _hide(record: dict[str, Any], keys: tuple[tuple[str, ...], tuple[str, ...]]) -> None:
    always, when_set = keys
    for key in always:
        record[key] = ND
    for key in when_set:
        if record[key] is not None:
            record[key] = ND


def current_unit_period(unit: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in unit["periodesUniteLegale"] if p["dateFin"] is None)


def embedded_unit(unit: dict[str, Any]) -> dict[str, Any]:
    """The `uniteLegale` object embedded in an establishment: current values, flat, without `siren`."""
    cur = current_unit_period(unit)
    return {
        "etatAdministratifUniteLegale": cur["etatAdministratifUniteLegale"],
        "statutDiffusionUniteLegale": unit["statutDiffusionUniteLegale"],
        "dateCreationUniteLegale": unit["dateCreationUniteLegale"],
        "categorieJuridiqueUniteLegale": cur["categorieJuridiqueUniteLegale"],
        "denominationUniteLegale": cur["denominationUniteLegale"],
        "sigleUniteLegale": unit["sigleUniteLegale"],
        "denominationUsuelle1UniteLegale": cur["denominationUsuelle1UniteLegale"],
        "denominationUsuelle2UniteLegale": cur["denominationUsuelle2UniteLegale"],
        "denominationUsuelle3UniteLegale": cur["denominationUsuelle3UniteLegale"],
        "sexeUniteLegale": unit["sexeUniteLegale"],
        "nomUniteLegale": cur["nomUniteLegale"],
        "nomUsageUniteLegale": cur["nomUsageUniteLegale"],
        "prenom1UniteLegale": unit["prenom1UniteLegale"],
        "prenom2UniteLegale": unit["prenom2UniteLegale"],
        "prenom3UniteLegale": unit["prenom3UniteLegale"],
        "prenom4UniteLegale": unit["prenom4UniteLegale"],
        "prenomUsuelUniteLegale": unit["prenomUsuelUniteLegale"],
        "pseudonymeUniteLegale": unit["pseudonymeUniteLegale"],
        "activitePrincipaleUniteLegale": cur["activitePrincipaleUniteLegale"],
        "nomenclatureActivitePrincipaleUniteLegale": cur["nomenclatureActivitePrincipaleUniteLegale"],
        "identifiantAssociationUniteLegale": unit["identifiantAssociationUniteLegale"],
        "economieSocialeSolidaireUniteLegale": cur["economieSocialeSolidaireUniteLegale"],
        "societeMissionUniteLegale": cur["societeMissionUniteLegale"],
        "caractereEmployeurUniteLegale": cur["caractereEmployeurUniteLegale"],
        "trancheEffectifsUniteLegale": unit["trancheEffectifsUniteLegale"],
        "anneeEffectifsUniteLegale": unit["anneeEffectifsUniteLegale"],
        "nicSiegeUniteLegale": cur["nicSiegeUniteLegale"],
        "dateDernierTraitementUniteLegale": unit["dateDernierTraitementUniteLegale"],
        "categorieEntreprise": unit["categorieEntreprise"],
        "anneeCategorieEntreprise": unit["anneeCategorieEntreprise"],
    }


def address(**values: Any) -> dict[str, Any]:
    """An `adresseEtablissement` with every key of the API, null unless given."""
    unknown = set(values) - set(ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"not address keys: {sorted(unknown)}")
    return {key: values.get(key) for key in ADDRESS_KEYS}


def build_establishment(
    siren: str,
    nic: str,
    *,
    segments: Sequence[tuple[str, dict[str, Any]]],
    statut: str = "O",
    created: str,
    siege: bool,
    adresse: dict[str, Any],
    tranche: str | None = None,
    annee_effectifs: str | None = None,
    processed: str,
) -> dict[str, Any]:
    """An `etablissement` as `GET /siret/{siret}` returns it, minus the embedded `uniteLegale` (added when served)."""
    history = periods(segments, ESTABLISHMENT_PERIOD_KEYS, ESTABLISHMENT_FLAGS)
    adresse = dict(adresse)
    if statut == "P":
        _hide(adresse, ND_ADDRESS_KEYS)
        for period in history:
            _hide(period, ND_ESTABLISHMENT_PERIOD_KEYS)
    return {
        "siren": siren,
        "nic": nic,
        "siret": siren + nic,
        "statutDiffusionEtablissement": statut,
        "dateCreationEtablissement": created,
        "trancheEffectifsEtablissement": tranche,
        "anneeEffectifsEtablissement": annee_effectifs,
        "activitePrincipaleRegistreMetiersEtablissement": None,
        "dateDernierTraitementEtablissement": processed,
        "etablissementSiege": siege,
        "nombrePeriodesEtablissement": len(history),
        "adresseEtablissement": adresse,
        "adresse2Etablissement": dict.fromkeys(ADDRESS2_KEYS),
        "periodesEtablissement": history,
    }


def with_unit(establishment: dict[str, Any], unit: dict[str, Any]) -> dict[str, Any]:
    """The establishment as served: `uniteLegale` goes right after `nombrePeriodesEtablissement`, like the API."""
    out: dict[str, Any] = {}
    for key, value in establishment.items():
        if key == "adresseEtablissement":
            out["uniteLegale"] = embedded_unit(unit)
        out[key] = value
    return out
