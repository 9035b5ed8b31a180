"""Identifiers and the reading of INSEE's JSON: pure functions, no I/O."""

import pytest

from achats.chassis.problems import Problem
from achats.company_registry.identifiers import french_vat, kind_of, valid_vat
from achats.company_registry.reference import legal_form_label, naf_label
from achats.company_registry.sirene import from_search_answer, from_siret_answer

REFERENCE_SAMPLE = {"header": {"statut": 200, "message": "ok"}, "etablissement": {
    "siren": "265701342", "nic": "00148", "siret": "26570134200148", "statutDiffusionEtablissement": "O",
    "dateCreationEtablissement": "2004-02-01", "trancheEffectifsEtablissement": "12", "etablissementSiege": True,
    "uniteLegale": {"etatAdministratifUniteLegale": "A", "statutDiffusionUniteLegale": "O",
                    "categorieJuridiqueUniteLegale": "7361",
                    "denominationUniteLegale": "CENTRE COMMUNAL D'ACTION SOCIALE", "sigleUniteLegale": "CCAS",
                    "activitePrincipaleUniteLegale": "88.99B", "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
                    "trancheEffectifsUniteLegale": "21", "nicSiegeUniteLegale": "00148",
                    "categorieEntreprise": "PME", "anneeCategorieEntreprise": "2019"},
    "adresseEtablissement": {"complementAdresseEtablissement": "22-24", "numeroVoieEtablissement": "22",
                             "typeVoieEtablissement": "RUE", "libelleVoieEtablissement": "DU WAD BILLY",
                             "codePostalEtablissement": "57000", "libelleCommuneEtablissement": "METZ",
                             "codeCommuneEtablissement": "57463"},
    "periodesEtablissement": [
        {"dateFin": None, "dateDebut": "2008-01-01", "etatAdministratifEtablissement": "A",
         "activitePrincipaleEtablissement": "88.99B", "nomenclatureActivitePrincipaleEtablissement": "NAFRev2"},
        {"dateFin": "2007-12-31", "dateDebut": "2004-12-25", "activitePrincipaleEtablissement": "85.3K",
         "nomenclatureActivitePrincipaleEtablissement": "NAFRev1"}]}}


@pytest.mark.parametrize(("number", "kind"), [
    ("265701342", "siren"), ("26570134200148", "siret"), ("265 701 342 00148", "siret"),
    ("35600000049837", "siret"),  # La Poste: valid by the sum of its digits, not by Luhn
])
def test_valid_numbers(number, kind):
    assert kind_of(number) == kind


@pytest.mark.parametrize(("number", "code"), [
    ("265701343", "siren_invalid"), ("26570134200149", "siret_invalid"), ("1234", "number_invalid"),
    ("ABCDEFGHI", "number_invalid"), ("35600000049838", "siret_invalid"),
])
def test_invalid_numbers_are_refused_before_any_call(number, code):
    with pytest.raises(Problem) as excinfo:
        kind_of(number)
    assert excinfo.value.status == 422
    assert excinfo.value.code == code


def test_french_vat_number_from_siren():
    assert french_vat("265701342") == "FR39265701342"
    assert valid_vat(french_vat("265701342"))
    assert not valid_vat("FR40265701342")


def test_reference_lists_come_from_the_shipped_files():
    assert legal_form_label("5499") == "Société à responsabilité limitée (sans autre indication)"
    assert legal_form_label("1000") == "Entrepreneur individuel"
    assert naf_label("82.99Z") == "Autres activités de soutien aux entreprises n.c.a."
    assert naf_label("85.3K") is None


def test_reference_sample_is_read_field_by_field():
    result = from_siret_answer(REFERENCE_SAMPLE)
    company, (establishment,) = result["company"], result["establishments"]
    assert company == {
        "siren": "265701342", "name": "CENTRE COMMUNAL D'ACTION SOCIALE", "sigle": "CCAS", "naf_code": "88.99B",
        "naf_label": naf_label("88.99B"), "legal_form_code": "7361", "legal_form_label": legal_form_label("7361"),
        "category": "PME", "is_pme": True, "workforce_range": "21", "workforce_label": "50 à 99 salariés",
        "active": True, "vat_number": "FR39265701342", "hidden_fields": []}
    assert establishment["siret"] == "26570134200148"
    assert establishment["street"] == "22 RUE DU WAD BILLY"
    assert establishment["complement"] == "22-24"
    assert (establishment["postal_code"], establishment["city"], establishment["country"]) == ("57000", "METZ",
                                                                                              "France")
    assert establishment["is_head_office"] is True
    assert establishment["active"] is True
    assert establishment["naf_code"] == "88.99B"


def test_sole_trader_is_named_by_first_name_and_name():
    unit = {"categorieJuridiqueUniteLegale": "1000", "prenom1UniteLegale": "JEANNE", "nomUniteLegale": "MARTIN",
            "etatAdministratifUniteLegale": "A"}
    body = {"etablissement": {**REFERENCE_SAMPLE["etablissement"], "uniteLegale": unit}}
    assert from_siret_answer(body)["company"]["name"] == "JEANNE MARTIN"


def test_hidden_fields_come_back_empty_and_flagged():
    etab = REFERENCE_SAMPLE["etablissement"]
    body = {"etablissement": {
        **etab,
        "uniteLegale": {**etab["uniteLegale"], "denominationUniteLegale": "[ND]", "statutDiffusionUniteLegale": "P"},
        "adresseEtablissement": {**etab["adresseEtablissement"], "numeroVoieEtablissement": "[ND]",
                                 "libelleVoieEtablissement": "[ND]", "typeVoieEtablissement": "[ND]"}}}
    result = from_siret_answer(body)
    assert result["company"]["name"] is None
    assert result["company"]["hidden_fields"] == ["name"]
    assert result["establishments"][0]["street"] is None
    assert "street" in result["establishments"][0]["hidden_fields"]
    assert result["establishments"][0]["city"] == "METZ"


def test_closed_establishment_and_foreign_address():
    etab = REFERENCE_SAMPLE["etablissement"]
    closed = {**etab, "periodesEtablissement": [{"dateFin": None, "etatAdministratifEtablissement": "F"}],
              "adresseEtablissement": {"libelleCommuneEtrangerEtablissement": "GENEVE",
                                       "codePaysEtrangerEtablissement": "99140",
                                       "libellePaysEtrangerEtablissement": "SUISSE"}}
    result = from_search_answer({"etablissements": [closed, {**etab, "siret": "26570134200155",
                                                             "etablissementSiege": False}]}, "265701342")
    first, second = result["establishments"]
    assert first["is_head_office"] is True
    assert first["active"] is False
    assert (first["country"], first["city"]) == ("SUISSE", "GENEVE")
    assert second["active"] is True
