"""The INSEE stand-in over real HTTP: Sirene 3.11 shapes, the dataset rules, error bodies, modes and counters."""

from __future__ import annotations

import csv
import threading
import time
import urllib.error
from pathlib import Path
from typing import Any

import pytest
import requests
from stdnum import luhn
from stdnum.fr import siren as siren_number
from stdnum.fr import siret as siret_number

from achats.company_registry.standin import dataset as ds
from achats.company_registry.standin import generate
from achats.company_registry.standin.records import LA_POSTE_SIREN, ND
from achats.company_registry.standin.testing import running_standin

DATA_DIR = Path(ds.__file__).resolve().parent.parent / "data"

# The sample of /work/shared/reference/insee-sirene.md, verbatim: the stand-in must serve at least this.
REFERENCE_SAMPLE = {
    "header": {"statut": 200, "message": "ok"},
    "etablissement": {
        "siren": "265701342",
        "nic": "00148",
        "siret": "26570134200148",
        "statutDiffusionEtablissement": "O",
        "dateCreationEtablissement": "2004-02-01",
        "trancheEffectifsEtablissement": "12",
        "etablissementSiege": True,
        "uniteLegale": {
            "etatAdministratifUniteLegale": "A",
            "statutDiffusionUniteLegale": "O",
            "categorieJuridiqueUniteLegale": "7361",
            "denominationUniteLegale": "CENTRE COMMUNAL D'ACTION SOCIALE",
            "sigleUniteLegale": "CCAS",
            "activitePrincipaleUniteLegale": "88.99B",
            "nomenclatureActivitePrincipaleUniteLegale": "NAFRev2",
            "trancheEffectifsUniteLegale": "21",
            "nicSiegeUniteLegale": "00148",
            "categorieEntreprise": "PME",
            "anneeCategorieEntreprise": "2019",
        },
        "adresseEtablissement": {
            "complementAdresseEtablissement": "22-24",
            "numeroVoieEtablissement": "22",
            "typeVoieEtablissement": "RUE",
            "libelleVoieEtablissement": "DU WAD BILLY",
            "codePostalEtablissement": "57000",
            "libelleCommuneEtablissement": "METZ",
            "codeCommuneEtablissement": "57463",
        },
        "periodesEtablissement": [
            {
                "dateFin": None,
                "dateDebut": "2008-01-01",
                "etatAdministratifEtablissement": "A",
                "activitePrincipaleEtablissement": "88.99B",
                "nomenclatureActivitePrincipaleEtablissement": "NAFRev2",
            },
            {
                "dateFin": "2007-12-31",
                "dateDebut": "2004-12-25",
                "activitePrincipaleEtablissement": "85.3K",
                "nomenclatureActivitePrincipaleEtablissement": "NAFRev1",
            },
        ],
    },
}


@pytest.fixture(scope="module")
def standin():
    with running_standin() as running:
        yield running


@pytest.fixture(autouse=True)
def _fresh(standin):
    standin.reset()


@pytest.fixture
def get(standin):
    def _get(path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return requests.get(
            f"{standin.base_url}{path}", headers=standin.headers() if headers is None else headers, **kwargs
        )

    return _get


def assert_contains(actual: Any, expected: Any, where: str = "") -> None:
    """Every key and value of `expected` is in `actual` (the reference sample is trimmed, the API is not)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), where
        for key, value in expected.items():
            assert key in actual, f"{where}.{key} missing"
            assert_contains(actual[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), where
        for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_contains(a, e, f"{where}[{index}]")
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def current(periods: list[dict[str, Any]]) -> dict[str, Any]:
    return next(p for p in periods if p["dateFin"] is None)


def valid_siret(siren: str, body: str) -> str:
    return siren + body + luhn.calc_check_digit(siren + body)


# --- shapes of the fixed entries -------------------------------------------------------------------------------


def test_ccas_metz_is_the_reference_sample(get):
    response = get(f"/siret/{ds.CCAS_METZ_SIRET}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert_contains(response.json(), REFERENCE_SAMPLE)


def test_siren_lists_the_periods_of_the_unit(get):
    unit = get(f"/siren/{ds.CCAS_METZ_SIREN}").json()

    assert unit["header"] == {"statut": 200, "message": "ok"}
    legal = unit["uniteLegale"]
    assert legal["siren"] == ds.CCAS_METZ_SIREN and legal["sigleUniteLegale"] == "CCAS"
    assert legal["nombrePeriodesUniteLegale"] == len(legal["periodesUniteLegale"]) == 2
    assert legal["periodesUniteLegale"][0]["dateFin"] is None
    assert current(legal["periodesUniteLegale"])["denominationUniteLegale"] == "CENTRE COMMUNAL D'ACTION SOCIALE"
    assert legal["periodesUniteLegale"][1]["nomenclatureActivitePrincipaleUniteLegale"] == "NAFRev1"


def test_test_sarl_has_a_valid_siren(get):
    assert not siren_number.is_valid("390702008") and siren_number.is_valid(ds.TEST_SARL_SIREN)

    unit = get(f"/siren/{ds.TEST_SARL_SIREN}").json()["uniteLegale"]

    assert current(unit["periodesUniteLegale"])["denominationUniteLegale"] == "TEST"
    assert current(unit["periodesUniteLegale"])["categorieJuridiqueUniteLegale"] == "5499"


def test_sole_trader_is_named_by_first_and_last_name(get):
    legal = get(f"/siret/{ds.SOLE_TRADER_SIRET}").json()["etablissement"]["uniteLegale"]

    assert legal["categorieJuridiqueUniteLegale"] == "1000"
    assert legal["denominationUniteLegale"] is None
    assert (legal["prenom1UniteLegale"], legal["prenom2UniteLegale"], legal["nomUniteLegale"]) == (
        "MARIE",
        "CLAIRE",
        "DURAND",
    )
    assert legal["sexeUniteLegale"] == "F"


def test_partially_diffusible_unit_hides_names_and_street_as_nd(get):
    est = get(f"/siret/{ds.PARTIAL_SIRET}").json()["etablissement"]
    legal = get(f"/siren/{ds.PARTIAL_SIREN}").json()["uniteLegale"]

    assert est["statutDiffusionEtablissement"] == "P" and est["uniteLegale"]["statutDiffusionUniteLegale"] == "P"
    assert est["uniteLegale"]["nomUniteLegale"] == ND and est["uniteLegale"]["prenom1UniteLegale"] == ND
    assert legal["prenom1UniteLegale"] == ND and current(legal["periodesUniteLegale"])["nomUniteLegale"] == ND
    address = est["adresseEtablissement"]
    assert address["libelleVoieEtablissement"] == ND and address["numeroVoieEtablissement"] == ND
    assert (address["codePostalEtablissement"], address["libelleCommuneEtablissement"]) == ("35000", "RENNES")


def test_closed_establishment_is_f_in_the_current_period(get):
    est = get(f"/siret/{ds.CLOSED_SIRET}").json()["etablissement"]

    assert current(est["periodesEtablissement"])["etatAdministratifEtablissement"] == "F"
    assert current(est["periodesEtablissement"])["dateDebut"] == "2021-06-30"
    assert est["periodesEtablissement"][1]["etatAdministratifEtablissement"] == "A"
    assert est["uniteLegale"]["etatAdministratifUniteLegale"] == "A"


def test_ceased_unit_is_c_and_all_its_establishments_f(get):
    legal = get(f"/siren/{ds.CLOSED_UNIT_SIREN}").json()["uniteLegale"]
    found = get("/siret", params={"q": f"siren:{ds.CLOSED_UNIT_SIREN}"}).json()

    assert current(legal["periodesUniteLegale"])["etatAdministratifUniteLegale"] == "C"
    assert found["header"]["total"] == 2
    assert {current(e["periodesEtablissement"])["etatAdministratifEtablissement"] for e in found["etablissements"]} == {
        "F"
    }


def test_la_poste_sirets_are_accepted(get):
    assert not luhn.is_valid(ds.LA_POSTE_SIRET) and siret_number.is_valid(ds.LA_POSTE_SIRET)
    shipped = get(f"/siret/{ds.LA_POSTE_SIRET}")
    other = next(
        s
        for s in (f"{LA_POSTE_SIREN}{n:05d}" for n in range(60000, 70000))
        if siret_number.is_valid(s) and s[-2] != "9"
    )
    generated = get(f"/siret/{other}")

    assert shipped.status_code == 200 and generated.status_code == 200
    for response in (shipped, generated):
        assert response.json()["etablissement"]["uniteLegale"]["denominationUniteLegale"] == "LA POSTE"
    assert get(f"/siret/{ds.LA_POSTE_HEAD_OFFICE_SIRET}").json()["etablissement"]["etablissementSiege"] is True


def test_foreign_address(get):
    address = get(f"/siret/{ds.FOREIGN_SIRET}").json()["etablissement"]["adresseEtablissement"]

    assert address["codePaysEtrangerEtablissement"] == "99131"
    assert address["libellePaysEtrangerEtablissement"] == "BELGIQUE"
    assert address["libelleCommuneEtrangerEtablissement"] == "1050 BRUXELLES"
    assert address["codeCommuneEtablissement"] is None and address["codePostalEtablissement"] is None


# --- generated numbers and the 404 rule ------------------------------------------------------------------------


def test_other_valid_numbers_get_a_deterministic_record(get):
    siret = valid_siret(ds.GENERATED_SIREN, "0001")

    first, second = get(f"/siret/{siret}"), get(f"/siret/{siret}")
    unit = get(f"/siren/{ds.GENERATED_SIREN}")
    listed = get("/siret", params={"q": f"siren:{ds.GENERATED_SIREN}"}).json()

    assert first.status_code == 200 and first.json() == second.json()
    est = first.json()["etablissement"]
    assert est["siret"] == siret and est["etablissementSiege"] is True
    assert est["uniteLegale"]["nicSiegeUniteLegale"] == siret[9:]
    assert unit.json()["uniteLegale"]["siren"] == ds.GENERATED_SIREN
    assert listed["etablissements"][0] == est
    assert listed["header"]["total"] == len(listed["etablissements"]) >= 1


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (f"/siren/{ds.UNKNOWN_SIREN}", f"Aucun élément trouvé pour le siren {ds.UNKNOWN_SIREN}"),
        (f"/siret/{ds.UNKNOWN_SIRET}", f"Aucun élément trouvé pour le siret {ds.UNKNOWN_SIRET}"),
        ("/siret/12345678901234", "Aucun élément trouvé pour le siret 12345678901234"),  # fails Luhn
        (f"/siret/{valid_siret(ds.GENERATED_SIREN, '0019')}", None),  # last-but-one digit 9
        (f"/siret/{valid_siret(ds.UNKNOWN_SIREN, '0001')}", None),  # its SIREN is unknown
    ],
)
def test_unknown_numbers_are_404(get, path, message):
    response = get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["header"]["statut"] == 404
    assert body["header"]["message"] == (message or f"Aucun élément trouvé pour le siret {path.rsplit('/', 1)[1]}")


@pytest.mark.parametrize("path", ["/siret/1234", "/siret/2657013420014A", "/siren/12345", "/siren/ABCDEFGHI"])
def test_malformed_numbers_are_400(get, path):
    response = get(path)

    assert response.status_code == 400
    assert response.json()["header"]["statut"] == 400
    assert response.json()["header"]["message"].startswith("Erreur de syntaxe dans le paramètre")


# --- gateway behaviour -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-INSEE-Api-Key-Integration": "wrong"}])
def test_missing_or_wrong_api_key_is_401(get, headers):
    response = get(f"/siret/{ds.CCAS_METZ_SIRET}", headers=headers)

    assert response.status_code == 401
    assert response.json()["header"]["statut"] == 401


def test_unacceptable_accept_is_406(get, standin):
    response = get(f"/siret/{ds.CCAS_METZ_SIRET}", headers={**standin.headers(), "Accept": "application/xml"})

    assert response.status_code == 406 and response.json()["header"]["statut"] == 406


def test_429_for_count_requests_with_retry_after_then_normal(get, standin):
    standin.set_mode("429", count=2, retry_after=3)

    responses = [get(f"/siret/{ds.CCAS_METZ_SIRET}") for _ in range(3)]

    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "3"
    assert responses[0].json()["header"]["statut"] == 429
    assert standin.mode()["mode"] == "normal"


@pytest.mark.parametrize("mode", ["500", "503"])
def test_server_error_modes(get, standin, mode):
    standin.set_mode(mode)

    response = get(f"/siren/{ds.CCAS_METZ_SIREN}")

    assert response.status_code == int(mode)
    assert response.json()["header"]["statut"] == int(mode) and response.json()["header"]["message"]
    standin.set_mode("normal")
    assert get(f"/siren/{ds.CCAS_METZ_SIREN}").status_code == 200


def test_slow_mode_delays_the_answer(get, standin):
    standin.set_mode("slow", delay=0.5)

    started = time.monotonic()
    response = get(f"/siret/{ds.CCAS_METZ_SIRET}")

    assert time.monotonic() - started >= 0.4
    assert response.status_code == 200


def test_outage_hangs_past_the_client_timeout(get, standin):
    standin.set_mode("outage")

    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        get(f"/siret/{ds.CCAS_METZ_SIRET}", timeout=1)

    assert time.monotonic() - started >= 0.9
    standin.reset()
    assert get(f"/siret/{ds.CCAS_METZ_SIRET}", timeout=2).status_code == 200


def test_bad_mode_is_refused(standin):
    with pytest.raises(urllib.error.HTTPError, match="400"):
        standin.set_mode("sometimes")


# --- search, informations, options -----------------------------------------------------------------------------


def test_search_by_siren(get):
    found = get("/siret", params={"q": f"siren:{ds.TEST_SARL_SIREN}"}).json()
    page = get("/siret", params={"q": f"siren:{ds.TEST_SARL_SIREN}", "nombre": 2, "debut": 1}).json()
    head_office = get("/siret", params={"q": f"siren:{ds.TEST_SARL_SIREN} AND etablissementSiege:true"}).json()

    assert found["header"] == {"statut": 200, "message": "OK", "total": 3, "debut": 0, "nombre": 3}
    assert [e["siret"] for e in found["etablissements"]] == [
        ds.TEST_SARL_SIRET,
        ds.TEST_SARL_SECONDARY_SIRET,
        ds.CLOSED_SIRET,
    ]
    assert all(e["uniteLegale"]["denominationUniteLegale"] == "TEST" for e in found["etablissements"])
    assert page["header"] == {"statut": 200, "message": "OK", "total": 3, "debut": 1, "nombre": 2}
    assert [e["siret"] for e in head_office["etablissements"]] == [ds.TEST_SARL_SIRET]


def test_search_errors(get):
    assert get("/siret", params={"q": f"siren:{ds.UNKNOWN_SIREN}"}).status_code == 404
    assert get("/siret", params={"q": "raisonSociale:NOTHINGLIKEIT"}).status_code == 404
    for outside in ("categorieJuridiqueUniteLegale:5499", "etablissementSiege:true", "raisonSociale:TEST~3",
                    "raisonSociale:TE$T", "codePostalEtablissement:PARIS", "raisonSociale:TEST OR siren:1"):
        assert get("/siret", params={"q": outside}).status_code == 400, outside
    assert get("/siret", params={"q": f"siren:{ds.TEST_SARL_SIREN}", "nombre": 1001}).status_code == 400


def sirets(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [e["siret"] for e in response.json()["etablissements"]]


def test_search_by_name(get):
    everywhere = get("/siret", params={"q": "raisonSociale:TEST"})
    assert sirets(everywhere) == [ds.TEST_SARL_SIRET, ds.TEST_SARL_SECONDARY_SIRET, ds.CLOSED_SIRET]
    open_head_office = "raisonSociale:test AND etablissementSiege:true AND periode(etatAdministratifEtablissement:A)"
    assert sirets(get("/siret", params={"q": open_head_office})) == [ds.TEST_SARL_SIRET]
    closed = "denominationUniteLegale:TEST AND periode(etatAdministratifEtablissement:F)"
    assert sirets(get("/siret", params={"q": closed})) == [ds.CLOSED_SIRET]
    assert sirets(get("/siret", params={"q": "raisonSociale:TEST AND codePostalEtablissement:69*"})) == [
        ds.TEST_SARL_SECONDARY_SIRET]
    assert sirets(get("/siret", params={"q": "raisonSociale:TEST AND libelleCommuneEtablissement:NANTES"})) == [
        ds.CLOSED_SIRET]
    # A sole trader is found by his name; a partially diffusible one is not: his names are hidden.
    assert ds.SOLE_TRADER_SIRET in sirets(get("/siret", params={"q": "raisonSociale:DURAND"}))
    partial = get("/siret", params={"q": f"siren:{ds.PARTIAL_SIREN}"}).json()["etablissements"][0]
    assert partial["uniteLegale"]["nomUniteLegale"] == ND


def test_search_by_name_approximate_prefix_and_phrase(get):
    def found(q: str) -> list[str]:
        return sirets(get("/siret", params={"q": q}))

    ccas = [ds.CCAS_METZ_SIRET]
    assert found("raisonSociale:ACTOIN~1 AND raisonSociale:COMMUNAL") == ccas  # a swap is one edit
    assert found("raisonSociale:COMUNAL~ AND raisonSociale:SOCIALE") == ccas
    assert get("/siret", params={"q": "raisonSociale:COMUNAL~0 AND raisonSociale:SOCIALE"}).status_code == 404
    assert found("raisonSociale:COMMUN* AND raisonSociale:SOCIALE") == ccas
    assert found('raisonSociale:"action sociale" AND libelleCommuneEtablissement:METZ') == ccas
    assert get("/siret", params={"q": 'raisonSociale:"sociale action"'}).status_code == 404
    # Best match first: an exact word before an approximate one.
    ranked = found("raisonSociale:TEST~1")
    assert ranked[:3] == [ds.TEST_SARL_SIRET, ds.TEST_SARL_SECONDARY_SIRET, ds.CLOSED_SIRET]


def test_informations(get):
    response = get("/informations")

    assert response.status_code == 200 and response.json()["etatService"] == "UP"


def test_masquer_valeurs_nulles_drops_null_fields(get):
    def nulls(value: Any) -> int:
        if isinstance(value, dict):
            return sum(v is None or nulls(v) for v in value.values())
        if isinstance(value, list):
            return sum(nulls(v) for v in value)
        return 0

    plain = get(f"/siret/{ds.CCAS_METZ_SIRET}").json()
    masked = get(f"/siret/{ds.CCAS_METZ_SIRET}", params={"masquerValeursNulles": "true"}).json()

    assert nulls(plain) > 0 and nulls(masked) == 0
    assert "dateFin" not in masked["etablissement"]["periodesEtablissement"][0]
    assert masked["etablissement"]["uniteLegale"]["sigleUniteLegale"] == "CCAS"


def test_calls_are_counted_per_path_insee_endpoints_only(get, standin):
    get(f"/siret/{ds.CCAS_METZ_SIRET}")
    get(f"/siret/{ds.CCAS_METZ_SIRET}", headers={})  # refused, but received
    get("/siret", params={"q": f"siren:{ds.TEST_SARL_SIREN}"})
    standin.mode()

    assert standin.calls() == {"total": 3, "by_path": {f"/siret/{ds.CCAS_METZ_SIRET}": 2, "/siret": 1}}
    standin.reset()
    assert standin.calls() == {"total": 0, "by_path": {}}


# --- the shipped dataset ---------------------------------------------------------------------------------------


def _codes(name: str) -> set[str]:
    with (DATA_DIR / name).open(encoding="utf-8") as stream:
        return {row["code"] for row in csv.DictReader(stream)}


def test_shipped_dataset_is_what_the_generator_writes():
    assert ds.DATASET_PATH.read_bytes() == generate.encode(generate.build())


def test_shipped_dataset_content():
    data = ds.SireneData.load()
    naf, legal_forms = _codes("naf-rev2-sous-classes.csv"), _codes("categories-juridiques-n3.csv")
    units, establishments = data.units.values(), data.establishments.values()

    assert 180 <= len(units) <= 220 and 280 <= len(establishments) <= 340
    assert all(siret_number.is_valid(s) for s in data.establishments)
    assert {current(u["periodesUniteLegale"])["categorieJuridiqueUniteLegale"] for u in units} <= legal_forms
    assert {current(u["periodesUniteLegale"])["activitePrincipaleUniteLegale"] for u in units} <= naf
    assert sum(current(u["periodesUniteLegale"])["categorieJuridiqueUniteLegale"] == "1000" for u in units) >= 20
    assert sum(u["statutDiffusionUniteLegale"] == "P" for u in units) >= 5
    assert (
        sum(current(e["periodesEtablissement"])["etatAdministratifEtablissement"] == "F" for e in establishments) >= 10
    )
    assert sum(current(u["periodesUniteLegale"])["etatAdministratifUniteLegale"] == "C" for u in units) >= 2
    assert {u["categorieEntreprise"] for u in units} == {"PME", "ETI", "GE"}
    assert sum(s.startswith(LA_POSTE_SIREN) for s in data.establishments) >= 3
    assert sum(len(data.sirets_by_siren[s]) > 1 for s in data.units) >= 20


def test_running_standin_stops_its_thread():
    before = set(threading.enumerate())
    with running_standin() as other:
        assert requests.get(f"{other.base_url}/informations", headers=other.headers(), timeout=2).status_code == 200
    assert set(threading.enumerate()) <= before
