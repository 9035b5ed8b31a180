"""The routing table: which path goes where, how long it may take, how big, and who may call it."""

from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024

# Authentication at the edge: "required" (a valid token or the request stops here), "optional" (a
# token, if any, must be valid; anonymous calls go through: the service decides), "none".
REQUIRED, OPTIONAL, NONE = "required", "optional", "none"


@dataclass(frozen=True)
class Rule:
    name: str
    prefix: str  # public path prefix under the gateway
    upstream: str  # service name
    target: str  # path prefix on the service
    auth: str = REQUIRED
    methods: frozenset[str] | None = None  # None: every method
    timeout: float = 10.0
    max_body: int = 1 * MB
    sensitive: bool = False  # stricter rate limit (logins, registrations, resets, ticket creation)

    def matches(self, method: str, path: str) -> bool:
        return (path == self.prefix or path.startswith(self.prefix.rstrip("/") + "/")) and (
            self.methods is None or method in self.methods)

    def upstream_path(self, path: str) -> str:
        return self.target + path[len(self.prefix):]


def _public(name: str, prefix: str, upstream: str, target: str, methods: str, **kwargs) -> Rule:
    return Rule(name, prefix, upstream, target, auth=NONE, methods=frozenset(methods.split()), **kwargs)


RULES: list[Rule] = [
    # identity: what a visitor does before having a token is public; everything else needs one.
    _public("identity.registrations", "/api/identity/registrations", "identity", "/identity/registrations",
            "POST", sensitive=True),
    _public("identity.email_verifications", "/api/identity/email-verifications", "identity",
            "/identity/email-verifications", "POST"),
    # A new confirmation mail: sends mail, so limited like a password reset request.
    _public("identity.email_verifications.resend", "/api/identity/email-verifications/resend", "identity",
            "/identity/email-verifications/resend", "POST", sensitive=True),
    _public("identity.sessions", "/api/identity/sessions", "identity", "/identity/sessions", "POST", sensitive=True),
    _public("identity.oauth", "/api/identity/oauth/token", "identity", "/identity/oauth/token", "POST",
            sensitive=True),
    _public("identity.password_resets", "/api/identity/password-resets", "identity", "/identity/password-resets",
            "POST", sensitive=True),
    _public("identity.well_known", "/api/identity/.well-known", "identity", "/identity/.well-known", "GET"),
    _public("identity.openapi", "/api/identity/openapi.json", "identity", "/identity/openapi.json", "GET"),
    Rule("identity", "/api/identity", "identity", "/identity"),
    # company registry: the lookup, the search by name and the nomenclatures serve the registration
    # form, before login (the search and the lookup answer within their own 3.5 s budget).
    _public("companies.lookup", "/api/companies/lookup", "company-registry", "/registry/lookup", "GET",
            timeout=5.0),
    _public("companies.search", "/api/companies/search", "company-registry", "/registry/search", "GET",
            timeout=5.0),
    _public("companies.reference", "/api/companies/reference", "company-registry", "/registry/reference", "GET"),
    _public("companies.openapi", "/api/companies/openapi.json", "company-registry", "/registry/openapi.json",
            "GET"),
    Rule("companies.admin", "/api/companies/admin", "company-registry", "/registry/admin"),
    Rule("companies", "/api/companies", "company-registry", "/registry/companies", max_body=12 * MB),
    # helpdesk: anonymous requests and follow links are allowed; the service checks the rest.
    Rule("helpdesk.tickets.create", "/api/helpdesk/tickets", "helpdesk", "/helpdesk/tickets", auth=OPTIONAL,
         methods=frozenset({"POST"}), max_body=25 * MB, sensitive=True),
    Rule("helpdesk", "/api/helpdesk", "helpdesk", "/helpdesk", auth=OPTIONAL, max_body=25 * MB),
    # signature: verifying is public, like the guide's tool; big documents, long validations.
    Rule("signature", "/api/signature", "signature", "/signature", auth=OPTIONAL, max_body=55 * MB, timeout=60.0),
    # consultations: the list, the search and a consultation are public; the DCE needs a company's account
    # (the service checks it and records the download). Deposits (« Déposer ») carry the answer's files: up to the
    # gateway's own cap (MAX_BODY_BYTES, 60 MB); the service checks its limits (MAX_DEPOSIT_BYTES) itself.
    Rule("consultations", "/api/consultations", "consultations", "/consultations", auth=OPTIONAL, timeout=30.0,
         max_body=60 * MB),
    _public("notifier.openapi", "/api/notifier/openapi.json", "notifier", "/notifier/openapi.json", "GET"),
    Rule("notifier", "/api/notifier", "notifier", "/notifier"),
]


# Pages for people: every path that is neither the API (/api/...) nor the gateway's own probes goes to
# the web front end, unchanged. Their forms post files, so the body limit depends on the page (the most
# specific prefix wins, as for the API): the signature tools carry documents up to the signature
# service's 55 MB (and wait for its 60 s validation), « Demande d'assistance » attachments up to the
# helpdesk's 25 MB, every other page (the vault's uploads) 12 MB.
PAGES = Rule("web", "", "web", "", auth=NONE, max_body=12 * MB, timeout=15.0)
PAGE_RULES: list[Rule] = [
    PAGES,
    Rule("web.signature_tools", "/outils-de-signature", "web", "/outils-de-signature", auth=NONE, max_body=55 * MB,
         timeout=65.0),
    Rule("web.assistance", "/assistance", "web", "/assistance", auth=NONE, max_body=25 * MB, timeout=15.0),
    # « Répondre » to a consultation's lot posts the answer's files (the web app limits /…/repondre to 55 MB and
    # its other consultations pages to 12 MB; a prefix rule cannot tell them apart here), and waits for the
    # consultations service's deposit (sealing, the TSA).
    Rule("web.consultations", "/consultations", "web", "/consultations", auth=NONE, max_body=55 * MB,
         timeout=35.0),
]
GATEWAY_OWN = ("/healthz", "/readyz", "/metrics")


def is_page(path: str) -> bool:
    return not (path == "/api" or path.startswith("/api/") or path in GATEWAY_OWN)


def page_rule(path: str, rules: list[Rule] = PAGE_RULES) -> Rule:
    """The rule of a page path (``is_page``): its body limit and timeout."""
    return match("GET", path, rules) or PAGES


def match(method: str, path: str, rules: list[Rule] = RULES) -> Rule | None:
    """The most specific rule for the request (longest prefix first)."""
    best = None
    for rule in rules:
        if rule.matches(method, path) and (best is None or len(rule.prefix) > len(best.prefix)):
            best = rule
    return best


# The contracts /api/docs lists: its name there, the service, and where the service serves it.
def public_path(path: str, upstream: str, rules: list[Rule] = RULES) -> str | None:
    """A service's own path as the gateway publishes it (``/registry/lookup/x`` ->
    ``/api/companies/lookup/x``), by the most specific rule; None when the gateway publishes none."""
    candidates = [r for r in rules if r.upstream == upstream and r.target
                  and (path == r.target or path.startswith(r.target.rstrip("/") + "/"))]
    if not candidates:
        return None
    rule = max(candidates, key=lambda r: len(r.target))
    return rule.prefix + path[len(rule.target):]


DOCS = [("identity", "identity", "/identity/openapi.json"),
        ("companies", "company-registry", "/registry/openapi.json"),
        ("helpdesk", "helpdesk", "/helpdesk/openapi.json"),
        ("signature", "signature", "/signature/openapi.json"),
        ("notifier", "notifier", "/notifier/openapi.json"),
        ("consultations", "consultations", "/consultations/openapi.json")]
