"""Settings of the web front end: where the services answer, the browser session, the built assets."""

from __future__ import annotations

from dataclasses import dataclass

from achats.chassis.settings import ServiceSettings, SettingsError


@dataclass(frozen=True)
class WebSettings(ServiceSettings):
    # The services the pages call, at their upstream addresses (embedded defaults of `make run`).
    identity_url: str = "http://127.0.0.1:8101"
    registry_url: str = "http://127.0.0.1:8102"
    helpdesk_url: str = "http://127.0.0.1:8103"
    # « Outils de signature »: verification (public) and one-shot signing (logged in) of the signature service.
    signature_url: str = "http://127.0.0.1:8104"
    # « Mon Assistant Marchés Publics »: the port of its local server on 127.0.0.1 (its `--port`), which the pages'
    # script asks (« Signer un document », « Tester la configuration »).
    assistant_port: int = 47311
    # « Consultations de test » (issue 19): the list, a consultation, its DCE (downloaded with the user's token).
    consultations_url: str = "http://127.0.0.1:8107"
    # The back office's « Envois de courriels » of a ticket (issue 17 item 4): the notifier's deliveries and retry.
    notifier_url: str = "http://127.0.0.1:8105"
    # « Santé » (back office, issue 17 item 7): each service as name=address (its /readyz and /admin/bus).
    health_services: tuple[str, ...] = (
        "identity=http://127.0.0.1:8101", "company-registry=http://127.0.0.1:8102", "helpdesk=http://127.0.0.1:8103",
        "signature=http://127.0.0.1:8104", "notifier=http://127.0.0.1:8105", "consultations=http://127.0.0.1:8107")
    # Signs the CSRF tokens of the forms (HMAC of the session id); required outside the embedded mode.
    secret_key: str = ""
    # The session cookie: `Secure` behind HTTPS (production), not on http://localhost.
    cookie_secure: bool = True
    # The gateway is the only way in (the network policy), and it drops the client's X-Forwarded-Proto and sets
    # its own: one hop trusted, so that the page knows it was asked over https (« Tester la configuration »).
    trust_forwarded_proto: bool = True
    # A session unused for this long is over (seconds).
    session_idle_seconds: int = 1800
    # The same for support agents and platform administrators (the back office, issue 17): 30 minutes by default;
    # set it lower than the one above to end their sessions sooner (the shorter of the two applies to them).
    staff_session_idle_seconds: int = 1800
    # Where the DSFR assets are built (fingerprinted copies of what the pages use); empty: in the package.
    assets_dir: str = ""
    # node_modules holding @gouvfr/dsfr, installed by scripts/ensure-web-assets.sh; empty: web/node_modules.
    node_modules: str = ""
    # The public FAQ the Assistance button leads to until the assistance pages exist (issue 15 part 2).
    faq_url: str = "/aide"
    # The largest request any page takes (the signature tools', errors.PAGE_BODY_LIMITS: each page has its own,
    # like the gateway's PAGE_RULES); the services refuse, with their own message, a file over their limits.
    max_body_bytes: int = 55 * 1024 * 1024
    # « Demande d'assistance »: what JavaScript checks before an upload, as a convenience only — the helpdesk checks
    # every file again (its ATTACHMENT_MAX_BYTES, its types judged by content) and its message is the one shown.
    assistance_max_file_bytes: int = 5 * 1024 * 1024
    assistance_accepted_types: str = (".png,.jpg,.jpeg,.gif,.webp,.bmp,.tif,.tiff,.pdf,.doc,.docx,.xls,.xlsx,.ppt,"
                                      ".pptx,.odt,.ods,.odp,.txt,.csv,.log")

    def __post_init__(self) -> None:
        problems = []
        if len(self.secret_key) < 32:
            problems.append("SECRET_KEY must be set to at least 32 random characters (it signs the forms' tokens)")
        if self.session_idle_seconds <= 0:
            problems.append("SESSION_IDLE_SECONDS must be positive")
        if self.staff_session_idle_seconds <= 0:
            problems.append("STAFF_SESSION_IDLE_SECONDS must be positive")
        if problems:
            raise SettingsError(f"Invalid configuration for service {self.service!r}: " + "; ".join(problems))
