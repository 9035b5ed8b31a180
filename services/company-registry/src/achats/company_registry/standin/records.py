"""Builders of Sirene 3.11 records (unités légales, établissements) in the exact JSON shape of the API."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
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

# (libelleCommune as Sirene spells it, codePostal, codeCommune from the COG)
COMMUNES = (
    ("PARIS 8", "75008", "75108"),
    ("PARIS 11", "75011", "75111"),
    ("PARIS 15", "75015", "75115"),
    ("LYON 3EME", "69003", "69383"),
    ("MARSEILLE 8", "13008", "13208"),
    ("TOULOUSE", "31000", "31555"),
    ("NICE", "06000", "06088"),
    ("NANTES", "44000", "44109"),
    ("STRASBOURG", "67000", "67482"),
    ("MONTPELLIER", "34000", "34172"),
    ("BORDEAUX", "33000", "33063"),
    ("LILLE", "59000", "59350"),
    ("RENNES", "35000", "35238"),
    ("REIMS", "51100", "51454"),
    ("LE HAVRE", "76600", "76351"),
    ("SAINT-ETIENNE", "42000", "42218"),
    ("TOULON", "83000", "83137"),
    ("GRENOBLE", "38000", "38185"),
    ("DIJON", "21000", "21231"),
    ("ANGERS", "49000", "49007"),
    ("NIMES", "30000", "30189"),
    ("CLERMONT-FERRAND", "63000", "63113"),
    ("LE MANS", "72000", "72181"),
    ("AIX-EN-PROVENCE", "13100", "13001"),
    ("BREST", "29200", "29019"),
    ("TOURS", "37000", "37261"),
    ("AMIENS", "80000", "80021"),
    ("LIMOGES", "87000", "87085"),
    ("METZ", "57000", "57463"),
    ("BESANCON", "25000", "25056"),
    ("PERPIGNAN", "66000", "66136"),
    ("ORLEANS", "45000", "45234"),
    ("ROUEN", "76000", "76540"),
    ("CAEN", "14000", "14118"),
    ("NANCY", "54000", "54395"),
    ("MULHOUSE", "68100", "68224"),
    ("VERSAILLES", "78000", "78646"),
    ("BOULOGNE-BILLANCOURT", "92100", "92012"),
    ("NANTERRE", "92000", "92050"),
    ("ISSY-LES-MOULINEAUX", "92130", "92040"),
    ("COURBEVOIE", "92400", "92026"),
    ("PUTEAUX", "92800", "92062"),
    ("CRETEIL", "94000", "94028"),
    ("SAINT-DENIS", "93200", "93066"),
    ("MONTREUIL", "93100", "93048"),
    ("ARGENTEUIL", "95100", "95018"),
    ("VILLEURBANNE", "69100", "69266"),
    ("POITIERS", "86000", "86194"),
    ("PAU", "64000", "64445"),
    ("LA ROCHELLE", "17000", "17300"),
    ("AJACCIO", "20000", "2A004"),
    ("BASTIA", "20200", "2B033"),
    ("SAINT-DENIS", "97400", "97411"),
    ("FORT-DE-FRANCE", "97200", "97209"),
    ("ANNECY", "74000", "74010"),
    ("VANNES", "56000", "56260"),
    ("QUIMPER", "29000", "29232"),
    ("CHAMBERY", "73000", "73065"),
    ("VALENCE", "26000", "26362"),
    ("TROYES", "10000", "10387"),
    ("BOURGES", "18000", "18033"),
)
STREETS = (
    "DE LA REPUBLIQUE",
    "VICTOR HUGO",
    "JEAN JAURES",
    "DU GENERAL DE GAULLE",
    "DE LA GARE",
    "PASTEUR",
    "DES LILAS",
    "DU COMMERCE",
    "FOCH",
    "GAMBETTA",
    "DE LA LIBERTE",
    "NATIONALE",
    "DU MARECHAL LECLERC",
    "DE PARIS",
    "DES ECOLES",
    "DU MOULIN",
    "CARNOT",
    "DE L'EGLISE",
    "DES ACACIAS",
    "ANATOLE FRANCE",
    "DE VERDUN",
    "DU 8 MAI 1945",
    "DE LA PAIX",
    "JULES FERRY",
    "SADI CARNOT",
    "DES ARTISANS",
    "DU PORT",
    "DES VIGNES",
    "EMILE ZOLA",
    "LOUIS PASTEUR",
)
STREET_TYPES = ("RUE",) * 10 + ("AV",) * 3 + ("BD",) * 2 + ("PL", "CHE", "RTE", "IMP", "ALL", "QUAI", "CRS")
COMPLEMENTS = (
    "BATIMENT B",
    "ZONE ARTISANALE DES PINS",
    "RESIDENCE LES TILLEULS",
    "CENTRE COMMERCIAL DU LAC",
    "PARC D'ACTIVITES DU MOULIN",
    "ZI NORD",
    "2EME ETAGE",
)
SURNAMES = (
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
    "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
    "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "FAURE", "ANDRE", "MERCIER",
    "BLANC", "GUERIN", "BOYER", "GARNIER", "CHEVALIER", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN",
    "CLEMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "MASSON", "LE GALL", "KERBRAT", "NGUYEN",
)  # fmt: skip
FIRST_NAMES = {
    "M": ("JEAN", "PIERRE", "MICHEL", "PHILIPPE", "ALAIN", "NICOLAS", "LAURENT", "THOMAS", "JULIEN", "ANTOINE",
          "FRANCOIS", "OLIVIER", "SEBASTIEN", "MATHIEU", "KEVIN", "LUCAS", "HUGO", "KARIM"),
    "F": ("MARIE", "NATHALIE", "ISABELLE", "SYLVIE", "CATHERINE", "SANDRINE", "CELINE", "JULIE", "CAMILLE",
          "LAURA", "SOPHIE", "EMILIE", "CHLOE", "LEA", "MANON", "ANNE", "FATIMA"),
}  # fmt: skip
PREFIXES = (
    "ALPHA", "NOVA", "ATLANTIQUE", "ARMOR", "ALPES", "PROVENCE", "AQUITAINE", "NORMANDIE", "ALSACE",
    "OCCITANIE", "HORIZON", "AZUR", "CAP", "EUROPE", "LOIRE", "RHONE", "SEINE", "OMEGA", "GENERALE",
)  # fmt: skip

# NAF rév. 2 code -> (NAF rév. 1 code it replaced in 2008 or None, words for names)
SECTORS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "62.01Z": ("72.2C", ("INFORMATIQUE", "LOGICIELS", "DIGITAL")),
    "62.02A": ("72.1Z", ("CONSEIL INFORMATIQUE", "SYSTEMES")),
    "43.21A": ("45.3A", ("ELECTRICITE", "ELEC")),
    "41.20A": ("45.2A", ("CONSTRUCTIONS", "MAISONS")),
    "41.20B": ("45.2B", ("BATIMENT", "CONSTRUCTION")),
    "71.12B": ("74.2C", ("INGENIERIE", "ETUDES TECHNIQUES")),
    "70.22Z": ("74.1G", ("CONSEIL", "STRATEGIE")),
    "56.10A": ("55.3A", ("RESTAURATION", "BRASSERIE")),
    "10.71C": ("15.8C", ("BOULANGERIE", "PATISSERIE")),
    "49.41A": ("60.2L", ("TRANSPORTS", "LOGISTIQUE")),
    "46.69B": (None, ("FOURNITURES INDUSTRIELLES", "EQUIPEMENTS")),
    "47.11D": ("52.1D", ("DISTRIBUTION", "SUPERMARCHE")),
    "68.20B": ("70.2C", ("IMMOBILIER", "PATRIMOINE")),
    "81.21Z": ("74.7Z", ("NETTOYAGE", "PROPRETE")),
    "43.22A": ("45.3F", ("PLOMBERIE", "CHAUFFAGE")),
    "43.32A": ("45.4C", ("MENUISERIE", "AGENCEMENT")),
    "73.11Z": ("74.4B", ("COMMUNICATION", "PUBLICITE")),
    "69.20Z": ("74.1C", ("EXPERTISE COMPTABLE", "AUDIT")),
    "80.10Z": ("74.6Z", ("SECURITE", "GARDIENNAGE")),
    "82.99Z": (None, ("SERVICES", "SOLUTIONS")),
    "33.12Z": (None, ("MAINTENANCE", "REPARATION INDUSTRIELLE")),
    "25.62B": ("28.5D", ("MECANIQUE", "USINAGE")),
    "58.29C": ("72.2A", ("EDITIONS LOGICIELLES", "SOFT")),
    "63.11Z": ("72.3Z", ("DATA", "HEBERGEMENT")),
    "85.59A": ("80.4C", ("FORMATION", "COMPETENCES")),
    "77.32Z": ("71.3C", ("LOCATION", "ENGINS")),
    "42.11Z": ("45.2P", ("TRAVAUX PUBLICS", "ROUTES")),
    "38.11Z": (None, ("ENVIRONNEMENT", "RECYCLAGE")),
    "35.11Z": ("40.1A", ("ENERGIE", "SOLAIRE")),
    "18.12Z": ("22.2C", ("IMPRIMERIE", "ARTS GRAPHIQUES")),
    "45.20A": ("50.2Z", ("GARAGE", "AUTOMOBILES")),
    "71.11Z": ("74.2A", ("ARCHITECTURE", "ARCHITECTES")),
    "43.99C": ("45.2V", ("MACONNERIE", "GROS OEUVRE")),
    "55.10Z": ("55.1A", ("HOTEL", "HOTELLERIE")),
    "46.90Z": (None, ("NEGOCE", "COMMERCE")),
    "28.29B": (None, ("MACHINES", "EQUIPEMENTS INDUSTRIELS")),
    "70.10Z": ("74.1J", ("HOLDING", "PARTICIPATIONS")),
    # Sole traders, associations and public bodies.
    "74.10Z": (None, ("DESIGN", "STUDIO")),
    "69.10Z": ("74.1A", ("CABINET", "AVOCAT")),
    "86.21Z": ("85.1C", ("CABINET MEDICAL",)),
    "96.02A": ("93.0D", ("COIFFURE", "SALON")),
    "86.90D": ("85.1G", ("CABINET INFIRMIER",)),
    "90.01Z": ("92.3A", ("SPECTACLES", "COMPAGNIE")),
    "47.78C": (None, ("BOUTIQUE",)),
    "43.31Z": ("45.4A", ("PLATRERIE",)),
    "94.99Z": ("91.3E", ("ASSOCIATION",)),
    "88.99B": ("85.3K", ("ACTION SOCIALE",)),
    "84.11Z": ("75.1A", ("COMMUNE",)),
    "53.10Z": ("64.1A", ("LA POSTE",)),
}
# Everything listed before the sole-trader block is a company activity.
COMPANY_SECTORS = tuple(list(SECTORS)[: list(SECTORS).index("74.10Z")])
SOLE_TRADER_SECTORS = (
    "62.02A", "74.10Z", "69.10Z", "86.21Z", "96.02A", "43.22A", "43.21A", "43.32A", "56.10A", "10.71C",
    "70.22Z", "85.59A", "86.90D", "90.01Z", "47.78C", "43.31Z",
)  # fmt: skip
# categorieJuridiqueUniteLegale of companies, weighted like the register (SARL and SAS dominate).
COMPANY_LEGAL_FORMS = ("5499",) * 9 + ("5710",) * 9 + ("5599", "5699", "5202", "6540", "5485", "5785", "5458", "6599")
PME_TRANCHES = ("NN", "00", "01", "02", "03", "11", "12", "21", "22", "31")
ETI_TRANCHES = ("32", "41", "42")
GE_TRANCHES = ("51", "52", "53")
TRANCHE_ORDER = ("NN", "00", "01", "02", "03", "11", "12", "21", "22", "31", "32", "41", "42", "51", "52", "53")
NAF_REV2_START = "2008-01-01"


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
        rng = self.rng
        created = created or self.date(1996, 2023)
        sexe = prenom_usuel = association_id = None
        prenoms: Sequence[str] = ()
        nom = None
        if kind == "sole_trader":
            naf = naf or rng.choice(SOLE_TRADER_SECTORS)
            legal_form = "1000"
            sexe = rng.choice("MF")
            prenoms = [rng.choice(FIRST_NAMES[sexe]) for _ in range(rng.choice((1, 1, 2, 3)))]
            nom = rng.choice(SURNAMES)
            if person:
                sexe, prenoms, nom = person
            prenom_usuel = prenoms[0]
            categorie = categorie or "PME"
            tranche = rng.choice(("NN", "NN", "00", "01"))
        elif kind == "association":
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
            categorie = categorie or "PME"
            tranche = rng.choice(("NN", "00", "01", "02", "03", "11"))
        elif kind == "commune":
            naf = "84.11Z"
            legal_form = "7210"
            categorie = categorie or "PME"
            tranche = rng.choice(("21", "22", "31", "32"))
        else:
            naf = naf or rng.choice(COMPANY_SECTORS)
            legal_form = legal_form or rng.choice(COMPANY_LEGAL_FORMS)
            denomination = denomination or self.company_name(naf)
            if sigle is None and rng.random() < 0.2:
                sigle = "".join(w[0] for w in denomination.split() if w not in ("ET", "DE", "DES", "DU"))[:6]
                sigle = sigle if len(sigle) >= 2 else None
            categorie = categorie or rng.choice(("PME",) * 16 + ("ETI",) * 3 + ("GE",))
            tranche = self.tranche_for(categorie)
        employer = "N" if tranche in ("NN", "00") else "O"
        base = {
            "etatAdministratifUniteLegale": "A",
            "nomUniteLegale": nom,
            "denominationUniteLegale": denomination if kind != "sole_trader" else None,
            "categorieJuridiqueUniteLegale": legal_form,
            "nicSiegeUniteLegale": nic_siege,
            "economieSocialeSolidaireUniteLegale": "O" if kind == "association" or legal_form == "5458" else "N",
            "societeMissionUniteLegale": "N" if kind == "company" else None,
            "caractereEmployeurUniteLegale": employer,
        }
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
        segments = sorted(segments, key=lambda s: s[0])
        has_staff = tranche not in (None, "NN")
        year = rng.choice(("2021", "2022"))
        return build_unit(
            siren,
            segments=_merge_same_day(segments),
            statut=statut,
            created=created,
            sigle=sigle,
            sexe=sexe,
            prenoms=prenoms,
            prenom_usuel=prenom_usuel,
            association_id=association_id,
            tranche=tranche,
            annee_effectifs=year if has_staff else None,
            categorie_entreprise=categorie,
            annee_categorie=year if categorie else None,
            processed=self.processed(),
        )

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
        history = unit["periodesUniteLegale"]
        siege = nic == cur["nicSiegeUniteLegale"]
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
            # A secondary establishment opens while the unit is alive, and before it becomes the head office.
            latest = min(d for d in (became_head_office, ceased_on, "2024-01-01") if d is not None)
            created = self.date_between(unit_created, day_before(latest))
        if ceased_on:
            # Every establishment of a ceased unit is closed, on the day the unit ceased at the latest.
            closed_on = min(closed_on or ceased_on, ceased_on)
        if closed_on and closed_on <= created:
            closed_on = self.date_after(created, 2024)
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


def _merge_same_day(segments: Iterable[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Two changes on the same day make one period, as in the register."""
    out: list[tuple[str, dict[str, Any]]] = []
    for start, changes in segments:
        if out and out[-1][0] == start:
            out[-1] = (start, {**out[-1][1], **changes})
        else:
            out.append((start, dict(changes)))
    return out
