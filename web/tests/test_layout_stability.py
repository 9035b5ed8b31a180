"""A first visit on a phone does not move under the reader's eyes when the fonts arrive.

DSFR draws text in a fallback font until Marianne is loaded (font-display: swap). A fallback narrower than
Marianne rewraps the lines at the swap and pushes everything below: on a short page the footer jumped by
two lines (cumulative layout shift 0.29, Lighthouse's « poor » starts at 0.25). web.css scales the fallback
to Marianne's widths. Measured here as Chromium reports it (the Layout Instability API), in a fresh profile
so the fonts are not cached, at Lighthouse's mobile size.
"""

from __future__ import annotations

import pytest

# Lighthouse's « good » is under 0.1; a page whose lines rewrap at the font swap is far above it.
GOOD = 0.1
PAGES = ["/", "/connexion", "/inscription", "/outils-de-signature", "/mentions-legales", "/aide",
         "/accessibilite", "/pre-requis-techniques"]
OBSERVE = """window.__shift = 0;
new PerformanceObserver((list) => { for (const entry of list.getEntries()) window.__shift += entry.value; })
  .observe({ type: "layout-shift", buffered: true });"""


@pytest.mark.parametrize("path", PAGES)
def test_a_first_visit_on_a_phone_does_not_move_when_the_fonts_arrive(browser, web_alone, path):
    context = browser.new_context(viewport={"width": 412, "height": 823}, device_scale_factor=1.75,
                                  is_mobile=True, has_touch=True, locale="fr-FR")
    try:
        page = context.new_page()
        page.add_init_script(OBSERVE)
        answer = page.goto(web_alone + path)
        assert answer.status == 200
        # Marianne is applied after the first paint (web.js): wait for it to be loaded (polled in the page:
        # wait_for_function's string predicates are an eval the CSP refuses).
        assert page.evaluate("""() => new Promise((resolve) => {
            const loaded = () => [...document.fonts].some((f) => f.family === 'Marianne' && f.status === 'loaded');
            const check = () => loaded() ? resolve(true) : setTimeout(check, 50);
            check(); setTimeout(() => resolve(false), 10000); })""")
        page.evaluate("() => document.fonts.ready")
        page.wait_for_timeout(300)  # the frame after the swap, where the shift is recorded
        assert page.evaluate("window.__shift") < GOOD
    finally:
        context.close()
