"""The asset build as the image runs it: an explicit node_modules, and catalogs not rewritten when current."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import requests

from achats.web import assets


def test_catalogs_compiled_from_the_same_po_are_not_written_again(tmp_path):
    # The image compiles them at build time and runs on a read-only root filesystem: a start must not write.
    translations = tmp_path / "translations"
    shutil.copytree(assets.HERE / "translations", translations,
                    ignore=shutil.ignore_patterns("*.mo"))
    assets.compile_catalogs(translations)
    (mo,) = translations.glob("*/LC_MESSAGES/messages.mo")
    os.utime(mo, ns=(1_000_000_000, 1_000_000_000))
    assets.compile_catalogs(translations)
    assert mo.stat().st_mtime_ns == 1_000_000_000, "an up-to-date catalog was rewritten"

    po = mo.with_suffix(".po")
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Log in"', 'msgstr "Sign in"', 1), encoding="utf-8")
    assets.compile_catalogs(translations)
    assert mo.stat().st_mtime_ns != 1_000_000_000 and b"Sign in" in mo.read_bytes()


def test_the_build_takes_the_node_modules_it_is_given(tmp_path):
    # In the image the package is installed in a venv: node_modules is passed, not found beside the sources.
    modules = tmp_path / "elsewhere" / "node_modules"
    (modules / "@gouvfr").mkdir(parents=True)
    (modules / "@gouvfr" / "dsfr").symlink_to(assets.DEFAULT_NODE_MODULES / "@gouvfr" / "dsfr")
    dest = tmp_path / "built"
    result = subprocess.run([sys.executable, "-m", "achats.web.assets", str(dest), str(modules)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    manifest = (dest / assets.MANIFEST).read_text()
    assert "dsfr-1.15.3/dsfr." in manifest and any(Path(dest).glob("dsfr-1.15.3/dsfr.*.css"))


def test_the_build_names_a_missing_design_system(tmp_path):
    result = subprocess.run([sys.executable, "-m", "achats.web.assets", str(tmp_path / "b"), str(tmp_path / "none")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "DSFR_ACCEPT_LICENSE=1" in result.stderr


def test_workers_starting_together_build_the_assets_once_without_breaking_each_other(tmp_path):
    # `serve --workers 2` without assets built beforehand: each worker builds at start, into the same folder.
    dest = tmp_path / "assets"
    code = ("import sys, json; from pathlib import Path; from achats.web import assets; "
            "print(json.dumps(assets.ensure_built(Path(sys.argv[1]), assets.DEFAULT_NODE_MODULES)))")
    workers = [subprocess.Popen([sys.executable, "-c", code, str(dest)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(w.wait(timeout=180), *w.communicate()) for w in workers]
    assert [r[0] for r in results] == [0] * 4, [r[2][-800:] for r in results]
    manifests = {r[1] for r in results}
    assert len(manifests) == 1
    for built in json.loads(manifests.pop()).values():
        assert (dest / built).is_file(), built


def test_text_assets_are_sent_as_compressed_at_build_time(web_alone):
    import re

    import requests

    home = requests.get(web_alone + "/", timeout=30).text
    css = re.search(r'href="(/assets/dsfr-[^"]+\.css)"', home)[1]
    plain = requests.get(web_alone + css, headers={"Accept-Encoding": "identity"}, timeout=30)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    answer = requests.get(web_alone + css, headers={"Accept-Encoding": "br, gzip"}, timeout=30, stream=True)
    stored = answer.raw.read()
    assert answer.headers["Content-Encoding"] == "br" and answer.headers["Content-Type"].startswith("text/css")
    assert "Accept-Encoding" in answer.headers["Vary"]
    assert "immutable" in answer.headers["Cache-Control"]
    import brotli

    assert brotli.decompress(stored) == plain.content
    # The best level, once: smaller than what a request-time level 5 gives.
    assert len(stored) < len(brotli.compress(plain.content, quality=5))


def test_small_screens_get_the_header_menu_and_no_script_error(browser, web_alone):
    # Lighthouse's mobile profile found DSFR's header script failing (no .fr-header__menu-links) and, on a small
    # screen, the menu and « Se connecter » out of reach.
    context = browser.new_context(locale="fr-FR", viewport={"width": 375, "height": 800})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(web_alone + "/")
        page.wait_for_load_state("networkidle")
        assert errors == []
        page.get_by_role("button", name="Menu").click()
        menu = page.locator("#menu-principal")
        assert menu.get_by_role("link", name="Se connecter").is_visible()
        assert menu.get_by_role("link", name="Aide").is_visible()
        menu.get_by_role("button", name="Fermer").click()
        assert not menu.get_by_role("link", name="Aide").is_visible()
    finally:
        context.close()


def test_the_marianne_fonts_are_fetched_after_the_first_paint_and_used(browser, web_alone):
    # Lighthouse counted the three Marianne fonts (177 KB) in the first paint whenever Chromium painted after
    # they arrived: their @font-face rules now sit in fonts.css, applied after the first paint by web.js.
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    fonts: list[str] = []
    page.on("request", lambda request: request.url.endswith(".woff2") and fonts.append(request.url))
    page.goto(web_alone + "/", wait_until="commit")
    first_paint = page.evaluate("""() => new Promise(resolve => {
        const seen = () => performance.getEntriesByName('first-contentful-paint').length > 0;
        if (seen()) return resolve(performance.now());
        new PerformanceObserver(() => seen() && resolve(performance.now())).observe({type: 'paint', buffered: true});
    })""")
    page.wait_for_load_state("networkidle")
    assert any("Marianne-Regular" in url for url in fonts)
    started = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(e => e.name.endsWith('.woff2')).map(e => e.startTime)""")
    paint = page.evaluate("() => performance.getEntriesByName('first-contentful-paint')[0].startTime")
    assert started and min(started) >= paint, (started, paint, first_paint)
    # The text is in Marianne once they are there, and no DSFR rule is lost with them.
    assert page.evaluate("() => document.fonts.check('16px Marianne')")
    assert page.evaluate("""() => [...document.fonts].some(f => f.family.replace(/"/g, '') === 'Marianne'
        && f.status === 'loaded')""")
    css = requests.get(web_alone + page.locator("link[data-fonts]").get_attribute("href"), timeout=30).text
    assert css.count("@font-face") == 10 and "url(fonts/Marianne-Regular.woff2)" in css
    dsfr = requests.get(web_alone + page.locator("link[rel=stylesheet]").first.get_attribute("href"), timeout=30).text
    assert "@font-face" not in dsfr and ".fr-btn" in dsfr
    context.close()


def test_without_javascript_the_fonts_come_from_the_noscript_stylesheet(browser, web_alone):
    context = browser.new_context(locale="fr-FR", java_script_enabled=False)
    page = context.new_page()
    fonts: list[str] = []
    page.on("request", lambda request: request.url.endswith(".woff2") and fonts.append(request.url))
    page.goto(web_alone + "/")
    page.wait_for_load_state("networkidle")
    assert any("Marianne-Regular" in url for url in fonts)
    context.close()


def test_every_icon_the_pages_name_is_drawn_not_a_square(browser, web_alone):
    # Without its rule out of DSFR's icon utilities, an fr-icon-* class draws a filled square (its ::before
    # has a background colour and no mask): every button of the header did.
    used = assets.icons_used()
    assert {"fr-icon-account-circle-line", "fr-icon-translate-2", "fr-icon-question-line"} <= used
    page = browser.new_page()
    page.goto(web_alone + "/")
    css = requests.get(web_alone + page.locator("link[rel=stylesheet]").first.get_attribute("href"), timeout=30).text
    for icon in used:
        rule = re.search(rf"\.{icon}:after,\.{icon}:before\{{[^}}]*mask-image:url\(icons/[a-z]+/{icon[8:]}\.svg\)", css)
        assert rule, f"{icon} has no mask in the bundle"
    for name in ("Se connecter", "EN – English", "Assistance"):
        mask = page.get_by_role("link", name=name).first.evaluate(
            "(e) => getComputedStyle(e, '::before').maskImage || getComputedStyle(e, '::before').webkitMaskImage")
        assert mask.startswith("url("), f"« {name} »: {mask}"
    bundle = page.locator("link[rel=stylesheet]").first.get_attribute("href").rsplit("/", 1)[0]
    svg = requests.get(f"{web_alone}{bundle}/icons/user/account-circle-line.svg", timeout=30)
    assert svg.status_code == 200 and "<svg" in svg.text
    page.close()
