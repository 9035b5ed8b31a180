"""Back office « Entreprises » (issue 17 item 6), in Chromium with JavaScript on and off against the real identity,
registry and INSEE stand-in: companies typed by hand, the registry's automatic re-verification (INSEE confirms one,
does not know another, is still down for a third), an administrator refuses one (the reason required, its French
message beside the field) and validates another, the journal tells who did what; a supplier and a support agent get
403 from the page and from the registry itself."""

from __future__ import annotations

import pytest
import requests
from playwright.sync_api import expect

from web_support import PASSWORD, REGISTRY_RUNTIMES, assert_accessible, create_staff, logged_in_page, register

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
# SIRENs the stand-in answers for: a generated unit (INSEE knows it) and two reserved unknown ones (404).
KNOWN = ("123456782", "12345678200010", "ENTREPRISE GENEREE")
UNKNOWN = ("123456790", "12345679000104", "ATELIER FANTOME")


def second_unknown() -> tuple[str, str, str]:
    """Another valid SIREN whose last-but-one digit is 9 (the stand-in's 404), and a valid SIRET of it."""
    from stdnum import luhn

    siren = next(f"12345{n:02d}9{d}" for n in range(10, 99) for d in "0123456789"
                 if luhn.is_valid(f"12345{n:02d}9{d}") and f"12345{n:02d}9{d}" != UNKNOWN[0])
    siret = next(siren + f"{n:04d}{d}" for n in range(1, 99) for d in "0123456789"
                 if luhn.is_valid(siren + f"{n:04d}{d}"))
    return siren, siret, "MENUISERIE INTROUVABLE"


def register_by_hand(platform, entry: tuple[str, str, str], login: str) -> None:
    """A company typed by hand (the registration's manual path), through identity as the page posts it."""
    siren, siret, name = entry
    answer = requests.post(f"{platform['identity']}/identity/registrations", json={
        "company": {"source": "manual", "siren": siren, "name": name, "naf_code": "62.01Z", "legal_form_code": "SARL",
                    "is_pme": True},
        "establishment": {"source": "manual", "siret": siret, "street": "1 rue de la Paix", "postal_code": "75002",
                          "city": "Paris"},
        "user": {"last_name": "Martin", "first_name": "Paul", "email": f"{login}@example.fr",
                 "phone": "+33 1 00 00 00 00"},
        "credentials": {"login": login, "password": PASSWORD}}, timeout=30)
    assert answer.status_code == 202, answer.text


def reverify(platform) -> None:
    """The registry's worker job, as it runs every REVERIFY_INTERVAL."""
    from achats.company_registry import jobs

    jobs.reverify(REGISTRY_RUNTIMES[platform["registry"]])


def token(platform, login: str) -> str:
    answer = requests.post(f"{platform['identity']}/identity/sessions", json={"login": login, "password": PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


@JS
def test_an_administrator_refuses_and_validates_companies_typed_by_hand(browser, platform, standin, javascript):
    later = second_unknown()
    register_by_hand(platform, KNOWN, "paul.connu")
    register_by_hand(platform, UNKNOWN, "paul.inconnu")
    reverify(platform)  # INSEE answers: it knows the first, not the second
    register_by_hand(platform, later, "paul.tard")
    standin.set_mode("503")
    reverify(platform)  # INSEE down for the one never tried (tried first)
    standin.set_mode("normal")
    create_staff(platform["identity"], "root.admin", "root.admin@achats.example", role="platform_admin",
                 first_name="Alice", last_name="Admin")

    admin = logged_in_page(browser, platform, javascript, "root.admin")
    admin.goto(platform["web"] + "/back-office/entreprises")
    expect(admin.get_by_role("heading", name="Entreprises saisies à la main")).to_be_visible()
    expect(admin.get_by_role("link", name="Entreprises", exact=True)).to_have_attribute("aria-current", "page")
    expect(admin.get_by_role("link", name="À décider : 2")).to_be_visible()
    expect(admin.get_by_role("link", name="Confirmées par l’INSEE : 1")).to_be_visible()
    unknown = admin.get_by_role("region", name=UNKNOWN[2])
    expect(unknown).to_contain_text("En désaccord avec l’INSEE")
    expect(unknown).to_contain_text("L'INSEE ne connaît pas ce numéro SIREN.")
    expect(unknown).to_contain_text(UNKNOWN[1])
    waiting = admin.get_by_role("region", name=later[2])
    expect(waiting).to_contain_text("INSEE toujours indisponible")
    expect(admin.get_by_role("region", name=KNOWN[2])).to_have_count(0)  # confirmed by INSEE: nothing to decide
    assert_accessible(admin, javascript)

    # « Refuser » without a reason: the registry's French message beside the field, nothing decided.
    unknown.get_by_role("button", name="Refuser").click()
    unknown = admin.get_by_role("region", name=UNKNOWN[2])
    field = unknown.get_by_label("Motif")
    expect(field).to_have_attribute("aria-describedby", f"{field.get_attribute('id')}-erreur")
    expect(unknown.locator(".fr-error-text")).to_have_text("Indiquez le motif du refus : il est conservé au journal.")
    expect(admin.get_by_text("Aucune décision pour l’instant.")).to_be_visible()
    assert_accessible(admin, javascript)
    field.fill("SIREN inconnu de l’INSEE, aucun Kbis au coffre-fort.")
    unknown.get_by_role("button", name="Refuser").click()
    expect(admin.get_by_role("status")).to_have_text(f"L’entreprise {UNKNOWN[2]} est refusée.")
    expect(admin.get_by_role("region", name=UNKNOWN[2])).to_have_count(0)
    expect(admin.get_by_role("link", name="Refusées : 1")).to_be_visible()
    assert_accessible(admin, javascript)

    admin.get_by_role("region", name=later[2]).get_by_role("button", name="Valider").click()
    expect(admin.get_by_role("status")).to_contain_text(f"L’entreprise {later[2]} est validée")
    rows = admin.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Entreprise validée")
    expect(rows.nth(1)).to_contain_text("Alice Admin")
    expect(rows.nth(2)).to_contain_text("Entreprise refusée")
    expect(rows.nth(2)).to_contain_text("aucun Kbis au coffre-fort")
    expect(admin.get_by_text("Aucune entreprise dans cet état.")).to_be_visible()
    admin.get_by_role("link", name="Refusées : 1").click()
    expect(admin.get_by_role("region", name=UNKNOWN[2])).to_contain_text("Alice Admin")
    assert_accessible(admin, javascript)
    admin.context.close()

    # What the registry keeps.
    headers = {"Authorization": f"Bearer {token(platform, 'root.admin')}"}
    accepted = requests.get(f"{platform['registry']}/registry/admin/manual-companies?status=accepted",
                            headers=headers, timeout=30).json()["items"]
    assert [(c["siren"], c["verified"]) for c in accepted] == [(later[0], True)]


@JS
def test_a_supplier_and_an_agent_get_403_on_entreprises(browser, platform, javascript):
    register(platform["identity"])
    create_staff(platform["identity"], "agent.smith", "agent.smith@achats.example")
    for login in ("mcurie", "agent.smith"):
        page = logged_in_page(browser, platform, javascript, login)
        response = page.goto(platform["web"] + "/back-office/entreprises")
        assert response.status == 403, login
        expect(page.get_by_role("heading", name="Accès refusé")).to_be_visible()
        assert_accessible(page, javascript)
        page.context.close()
        # Not only the page: the registry itself refuses the same caller.
        refused = requests.get(f"{platform['registry']}/registry/admin/manual-companies", timeout=30,
                               headers={"Authorization": f"Bearer {token(platform, login)}"})
        assert (refused.status_code, refused.json()["code"]) == (403, "platform_admin_required")
