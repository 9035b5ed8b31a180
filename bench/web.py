"""Benchmark of the web front end, as a visitor meets it: through the gateway, the web app and the real services.

A small platform is started here and stopped at the end: identity (PostgreSQL), the company registry (SQLite,
INSEE stand-in), the web front end (PostgreSQL, its assets built) and the gateway in front of them (its WEB
upstream), each under gunicorn with uvicorn workers as production runs them. Then:

- Lighthouse 12.2.3 (bench/lighthouse, pinned; scripts/ensure-bench-tools.sh installs it), its default mobile
  profile, headless Debian Chromium, LIGHTHOUSE_RUNS times (3) per page keeping the median run, on every page
  the web app serves: its GET routes without parameters (and each of the fixed pages), found in its own URL
  map, so a page added later is measured without a change here.
  A page that sends an anonymous visitor to « Se connecter » is measured logged in: the cookie of a session
  opened through the login form is passed with --extra-headers. Scores: performance, accessibility,
  best-practices; for a score under 100, the audits that cost it.
- The home page's answer time through the gateway at 50 requests/s (a paced client), p50 and p99.
- The bytes of a first visit (Lighthouse's total-byte-weight: what Chromium received, compressed) per page.
- The peer, in the same run: the same home page with DSFR as its package ships it (the whole stylesheet and
  script), served as plain files without compression — Lighthouse's scores and bytes (peer_plain_dsfr_home).

Targets (issue 15): performance >= 95, accessibility 100, best-practices 100, home p99 < 150 ms, first visit
< 250 KB. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

from achats.chassis.db import Database
from achats.company_registry.standin.testing import running_standin
from achats.identity.app import SERVICE as IDENTITY
from achats.identity.models import User
from achats.web.app import SERVICE as WEB

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import free_port, fresh_database, gunicorn, percentile

HERE = Path(__file__).resolve().parent
LIGHTHOUSE = HERE / "lighthouse" / "node_modules" / "lighthouse" / "cli" / "index.js"
LIGHTHOUSE_VERSION = "12.2.3"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
RATE = 50
SECONDS = int(os.environ.get("BENCH_SECONDS", "20"))
RUNS = int(os.environ.get("LIGHTHOUSE_RUNS", "3"))  # per page, the median kept
CCAS_SIRET = "26570134200148"  # in the INSEE stand-in
LOGIN, PASSWORD = "banc.web", "une phrase de passe du banc d'essai web"
SECRET = "bench-web-secret-key-0123456789abcdef"
CATEGORIES = ("performance", "accessibility", "best-practices")
TARGETS = {"performance": 95, "accessibility": 100, "best-practices": 100}
P99_TARGET_MS, FIRST_VISIT_TARGET_KB = 150, 250


def page_paths() -> list[str]:
    """The web app's GET pages without parameters, from its URL map (the fixed pages expanded)."""
    from werkzeug.routing import AnyConverter

    with tempfile.TemporaryDirectory() as folder:
        config = WEB.load_settings({}, database_url=f"sqlite:///{folder}/w.db", amqp_url="", secret_key=SECRET,
                                   cookie_secure=False, assets_dir=f"{folder}/assets", log_json=True)
        flask_app = WEB.create_app(config).app
        paths = []
        for rule in flask_app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint.startswith(("static", "pages.asset", "pages.language")):
                continue
            converters = rule._converters
            if not converters:
                paths.append(rule.rule)
            elif len(converters) == 1 and isinstance(only := next(iter(converters.values())), AnyConverter):
                paths += [re.sub(r"<[^>]+>", item, rule.rule) for item in sorted(only.items)]
    return sorted(p for p in paths if not p.startswith(("/healthz", "/readyz", "/metrics", "/openapi")))


def create_user(identity_url: str, database_url: str) -> None:
    """A supplier with a company, as a person registers (identity's API, the registry and its INSEE stand-in
    behind it), then its address confirmed and its account activated in identity's database (the mail's link
    is not what is measured): « Mon entreprise » and the vault have a company to show."""
    answer = requests.post(f"{identity_url}/identity/registrations", json={
        "company": {"source": "insee"}, "establishment": {"siret": CCAS_SIRET},
        "user": {"last_name": "Dupont", "first_name": "Jeanne", "email": "jeanne.dupont@example.fr",
                 "phone": "+33 3 87 00 00 00"},
        "credentials": {"login": LOGIN, "password": PASSWORD}}, timeout=60)
    assert answer.status_code == 202, f"registration: {answer.status_code} {answer.text[:300]}"
    db = Database(database_url)
    with db.unit_of_work() as uow:
        user = uow.session.query(User).filter_by(login=LOGIN).one()
        user.email_verified_at = user.activated_at = datetime.now(UTC)
        uow.commit()
    db.dispose()


def log_in(base: str) -> str:
    """The login form, as a browser sends it (CSRF cookie and token); returns the session cookie's value."""
    browser = requests.Session()
    form = browser.get(f"{base}/connexion", timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)[1]
    answer = browser.post(f"{base}/connexion", data={"csrf_token": token, "login": LOGIN, "password": PASSWORD},
                          allow_redirects=False, timeout=30)
    assert answer.status_code == 303, f"login through the gateway: {answer.status_code} {answer.text[:300]}"
    return browser.cookies["achats_session"]


def classify(base: str, paths: list[str]) -> tuple[dict[str, bool], dict[str, str]]:
    """Which pages answer an anonymous visitor (False), which need a session (True), which are not pages."""
    pages, skipped = {}, {}
    for path in paths:
        answer = requests.get(base + path, allow_redirects=False, timeout=30)
        kind = answer.headers.get("Content-Type", "")
        if answer.status_code == 200 and kind.startswith("text/html") and not _is_document(answer.text):
            skipped[path] = "200 text/html fragment (not a page)"  # e.g. what a page's script fetches into it
        elif answer.status_code == 200 and kind.startswith("text/html"):
            pages[path] = False
        elif answer.status_code in (302, 303) and answer.headers.get("Location", "").startswith("/connexion"):
            pages[path] = True
        else:
            skipped[path] = f"{answer.status_code} {kind.split(';')[0]} {answer.headers.get('Location', '')}".strip()
    return pages, skipped


def _is_document(html: str) -> bool:
    return html.lstrip()[:15].lower() == "<!doctype html>"


def lighthouse(url: str, folder: Path, cookie: str | None, keep: Path | None = None) -> dict:
    out = folder / "report.json"
    command = ["node", str(LIGHTHOUSE), url, "--output=json", f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(CATEGORIES)}",
               # root here: Chromium's sandbox needs an unprivileged user.
               "--chrome-flags=--headless=new --no-sandbox --disable-gpu"]
    # Further Lighthouse options to find what costs points (--blocked-url-patterns=..., etc.).
    command += os.environ.get("LIGHTHOUSE_FLAGS", "").split()
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": f"achats_session={cookie}"}))
    for attempt in (1, 2):  # a loaded machine sometimes loses Chromium's DevTools connection: once more
        run = subprocess.run(command, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if run.returncode == 0:
            break
        print(f"lighthouse {url} (attempt {attempt}): {run.stderr.strip()[-500:]}", file=sys.stderr)
    else:
        raise RuntimeError(f"lighthouse failed twice on {url}")
    report = json.loads(out.read_text())
    if keep is not None:  # the whole report, to read the audits' details
        keep.mkdir(parents=True, exist_ok=True)
        name = url.split("//", 1)[1].split("/", 1)[1].replace("/", "_") or "home"
        shutil.copy(out, keep / f"{name}.json")
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    result = {**scores, "bytes": int(report["audits"]["total-byte-weight"]["numericValue"]),
              "final_url": report.get("finalDisplayedUrl", report.get("finalUrl"))}
    # What cost points: the category's weighted audits that did not pass.
    costs = []
    for category in CATEGORIES:
        for ref in report["categories"][category]["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
                costs.append(f"{category}:{ref['id']}={audit['score']}")
    if costs:
        result["not_passed"] = costs
    return result


@contextlib.contextmanager
def plain_dsfr_home(gateway_url: str, folder: Path):
    """The peer of the same run: our home page as a DSFR site is made by default — the stylesheet and script
    the npm package ships whole (dsfr.min.css 712 KB, dsfr.module.min.js 115 KB), files served as they are,
    without compression (Python's http.server), fonts applied by the stylesheet. Yields its address."""
    import http.server
    import threading

    from achats.web import assets

    dist, _version = assets.dsfr_dist(assets.DEFAULT_NODE_MODULES)
    root = folder / "plain"
    shutil.copytree(dist, root / "dsfr", ignore=shutil.ignore_patterns("*.map", "*legacy*", "*nomodule*"))
    html = requests.get(gateway_url + "/", timeout=30).text
    html = re.sub(r'<link rel="(?:stylesheet|modulepreload)"[^>]*>|<script[^>]*></script>|<noscript>.*?</noscript>',
                  "", html, flags=re.S)
    html = html.replace("</head>", '<link rel="stylesheet" href="/dsfr/dsfr.min.css"></head>').replace(
        "</body>", '<script type="module" src="/dsfr/dsfr.module.min.js"></script></body>')
    (root / "index.html").write_text(html, encoding="utf-8")

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def paced_latency(url: str, rate: int, count: int) -> tuple[float, float, int]:
    session = requests.Session()
    session.headers["Accept-Encoding"] = "br, gzip"
    latencies, errors = [], 0
    started = time.perf_counter()
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        begin = time.perf_counter()
        answer = session.get(url, timeout=10)
        latencies.append(time.perf_counter() - begin)
        errors += answer.status_code != 200
    return percentile(latencies, 0.5) * 1000, percentile(latencies, 0.99) * 1000, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", help="only these paths, comma-separated (default: every page)")
    parser.add_argument("--reports", type=Path, help="keep each page's whole Lighthouse report (JSON) here")
    args = parser.parse_args()
    if not LIGHTHOUSE.is_file():
        raise SystemExit(f"{LIGHTHOUSE} is missing: run scripts/ensure-bench-tools.sh")
    if not Path(CHROME).is_file():
        raise SystemExit(f"{CHROME} is missing: run scripts/ensure-browser.sh")
    paths = args.pages.split(",") if args.pages else page_paths()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    try:
        with contextlib.ExitStack() as stack:
            standin = stack.enter_context(running_standin())
            identity_db = stack.enter_context(fresh_database("web_identity"))
            web_db = stack.enter_context(fresh_database("web"))
            IDENTITY.migrate(IDENTITY.load_settings({}, database_url=identity_db, amqp_url="memory://bench"))
            registry_db = f"sqlite:///{folder}/registry.db"
            from achats.company_registry.app import SERVICE as REGISTRY

            REGISTRY.migrate(REGISTRY.load_settings({}, database_url=registry_db, amqp_url="memory://bench",
                                                    insee_base_url=standin.base_url))
            common = {"LOG_LEVEL": "WARNING", "LOG_JSON": "true"}
            # The registry checks identity's tokens (the registration's own call among them) with its keys.
            identity_port = free_port()
            issuer = "http://localhost:8080/identity"
            jwks = f"http://127.0.0.1:{identity_port}/identity/.well-known/jwks.json"
            registry_url, _ = stack.enter_context(gunicorn("achats.company_registry.app:SERVICE", {
                **common, "COMPANY_REGISTRY_DATABASE_URL": registry_db, "COMPANY_REGISTRY_AMQP_URL": "memory://bench",
                "COMPANY_REGISTRY_INSEE_BASE_URL": standin.base_url,
                "COMPANY_REGISTRY_INSEE_API_KEY": standin.api_key, "COMPANY_REGISTRY_JWKS_URL": jwks,
                "COMPANY_REGISTRY_JWT_ISSUER": issuer, "COMPANY_REGISTRY_JWT_AUDIENCE": "achats"}, workers=1))
            identity_url, _ = stack.enter_context(gunicorn("achats.identity.app:SERVICE", {
                **common, "IDENTITY_DATABASE_URL": identity_db, "IDENTITY_AMQP_URL": "memory://bench",
                "IDENTITY_ISSUER": issuer, "IDENTITY_REGISTRY_URL": registry_url}, workers=1,
                ready_path="/identity/.well-known/jwks.json", port=identity_port))
            create_user(identity_url, identity_db)
            # The helpdesk (SQLite): the assistance pages (request form, follow page, « Mes demandes »).
            from achats.helpdesk.app import SERVICE as HELPDESK

            helpdesk_db = f"sqlite:///{folder}/helpdesk.db"
            HELPDESK.migrate(HELPDESK.load_settings({}, database_url=helpdesk_db, amqp_url="memory://bench"))
            helpdesk_url, _ = stack.enter_context(gunicorn("achats.helpdesk.app:SERVICE", {
                **common, "HELPDESK_DATABASE_URL": helpdesk_db, "HELPDESK_AMQP_URL": "memory://bench",
                "HELPDESK_JWKS_URL": jwks, "HELPDESK_JWT_ISSUER": issuer, "HELPDESK_JWT_AUDIENCE": "achats"},
                workers=1))
            WEB.migrate(WEB.load_settings({}, database_url=web_db, amqp_url="", secret_key=SECRET))
            web_url, _ = stack.enter_context(gunicorn("achats.web.app:SERVICE", {
                **common, "WEB_DATABASE_URL": web_db, "WEB_AMQP_URL": "", "WEB_SECRET_KEY": SECRET,
                "WEB_COOKIE_SECURE": "false", "WEB_ASSETS_DIR": str(folder / "assets"),
                "WEB_IDENTITY_URL": identity_url, "WEB_REGISTRY_URL": registry_url, "WEB_HELPDESK_URL": helpdesk_url,
                "WEB_JWKS_URL": f"{identity_url}/identity/.well-known/jwks.json", "WEB_JWT_ISSUER": issuer,
                "WEB_JWT_AUDIENCE": "achats"}))
            gateway_url, _ = stack.enter_context(gunicorn("achats.gateway.app:SERVICE", {
                **common, "GATEWAY_UPSTREAMS": f"identity={identity_url},company-registry={registry_url},"
                                               f"helpdesk={helpdesk_url},web={web_url}",
                "GATEWAY_JWKS_URL": f"{identity_url}/identity/.well-known/jwks.json", "GATEWAY_JWT_ISSUER": issuer,
                "GATEWAY_JWT_AUDIENCE": "achats",
                # Limits are checked as usual, set high enough never to refuse the load generator.
                "GATEWAY_RATE_IP_PER_MINUTE": "1000000000"}))

            pages, skipped = classify(gateway_url, paths)
            cookie = log_in(gateway_url) if any(pages.values()) else None
            reports = {}
            for path, needs_login in pages.items():
                # Lighthouse's own advice on variance: several runs, the median one (by performance).
                try:
                    runs = sorted((lighthouse(gateway_url + path, folder, cookie if needs_login else None,
                                              args.reports) for _ in range(RUNS)), key=lambda run: run["performance"])
                except RuntimeError as failed:  # one page Lighthouse cannot load: said, and the others measured
                    skipped[path] = str(failed)
                    continue
                reports[path] = {**runs[len(runs) // 2], "performance_runs": [run["performance"] for run in runs]}
                if needs_login:
                    reports[path]["logged_in"] = True
            with plain_dsfr_home(gateway_url, folder) as plain:
                runs = sorted((lighthouse(plain, folder, None, args.reports) for _ in range(RUNS)),
                              key=lambda run: run["performance"])
                peer = {**runs[len(runs) // 2], "performance_runs": [run["performance"] for run in runs]}
            requests.get(gateway_url + "/", timeout=30)  # warm
            p50, p99, errors = paced_latency(gateway_url + "/", RATE, RATE * SECONDS)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    misses = [f"{path} {c} {r[c]} < {TARGETS[c]}" for path, r in reports.items() for c in CATEGORIES
              if r[c] < TARGETS[c]]
    misses += [f"{path}: {why}" for path, why in skipped.items() if why.startswith("lighthouse failed")]
    first_visit_kb = reports["/"]["bytes"] / 1000 if "/" in reports else 0
    if p99 >= P99_TARGET_MS:
        misses.append(f"home p99 {p99:.1f} ms >= {P99_TARGET_MS}")
    if first_visit_kb >= FIRST_VISIT_TARGET_KB:
        misses.append(f"first visit {first_visit_kb:.1f} KB >= {FIRST_VISIT_TARGET_KB}")
    chromium = subprocess.run([CHROME, "--version"], capture_output=True, text=True).stdout.strip()
    print(json.dumps({
        "bench": "web",
        "lighthouse": LIGHTHOUSE_VERSION, "profile": "mobile (default)", "browser": chromium,
        "pages": {path: {k: v for k, v in r.items() if k != "final_url"} for path, r in reports.items()},
        # The same home page with DSFR as shipped, uncompressed (plain_dsfr_home): what the work here is worth.
        "peer_plain_dsfr_home": {k: v for k, v in peer.items() if k not in ("final_url", "not_passed")},
        "not_pages": skipped,
        "home_rate_per_s": RATE, "home_requests": RATE * SECONDS, "home_errors": errors,
        "home_p50_ms": round(p50, 2), "home_p99_ms": round(p99, 2),
        "first_visit_kb": round(first_visit_kb, 1),
        "targets_met": not misses, "misses": misses,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
