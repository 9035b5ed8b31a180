"""The asset build: only the DSFR CSS and JS the pages use, bundled and fingerprinted, plus our own files.

The full DSFR stylesheet is 712 KB; a page here needs the core and a dozen components. They are
concatenated into one file (their `url(../fonts/…)` and `url(../../icons/…)` rewritten for the
bundle's place, so the dist layout of fonts/ and icons/ is kept beside it), named by the hash of its
content, and served with a year of caching. Fonts and icons keep their names, under a folder named
after the DSFR version: a new version is a new address.

`python -m achats.web.assets [DEST [NODE_MODULES]]` builds (the image does, into /opt/web-assets); the app builds
at start when the manifest is missing.
"""

from __future__ import annotations

import fcntl
import gzip
import hashlib
import io
import json
import re
import shutil
import sys
from pathlib import Path

import brotli
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).parent
DEFAULT_NODE_MODULES = HERE.parents[2] / "node_modules"
DEFAULT_DEST = HERE / "static" / "build"
MANIFEST = "manifest.json"

# The DSFR components the templates use (dist/component/<name>/<name>.min.css), after the core.
COMPONENTS = ("link", "button", "form", "input", "select", "password", "checkbox", "radio", "alert", "notice",
              "callout", "card", "logo", "header", "footer", "translate", "skiplink", "navigation", "breadcrumb",
              "badge", "table", "upload", "modal", "accordion")
# Text assets are also stored compressed at build time, brotli at its best level and gzip: served as they are,
# never compressed again per request (pages.asset).
PRECOMPRESSED = (".css", ".js", ".svg")
OWN = ("web.css", "web.js", "nojs.css", "assistance_request.js",
       # The upload forms' progress bar: the vault, « Répondre », « Vérifier la signature électronique »
       # (templates/_upload.html's `progress`).
       "upload.js",
       # « Tester la configuration »'s checks by script (templates/configuration/index.html).
       "configuration.js",
       # « Mon Assistant Marchés Publics » from the pages: signing and its report (issue 18).
       "assistant.js",
       # The back office's question form: its preview follows the typing (templates/backoffice/faq_entry.html).
       "backoffice_faq.js")
_URL = re.compile(r"url\((['\"]?)(?:\.\./)+(fonts|icons)/")
_ICON = re.compile(r"fr-icon-[a-z0-9-]+")
_FONT_FACE = re.compile(r"@font-face\{[^}]*\}")


class AssetsMissing(RuntimeError):
    """@gouvfr/dsfr is not installed: run scripts/ensure-web-assets.sh."""


def dsfr_dist(node_modules: Path) -> tuple[Path, str]:
    package = node_modules / "@gouvfr" / "dsfr"
    if not (package / "dist" / "core" / "core.min.css").is_file():
        raise AssetsMissing(f"{package} has no dist/: run scripts/ensure-web-assets.sh (npm ci with "
                            "DSFR_ACCEPT_LICENSE=1)")
    version = json.loads((package / "package.json").read_text())["version"]
    return package / "dist", version


def _fingerprinted(dest: Path, name: str, content: bytes) -> str:
    stem, _, suffix = name.rpartition(".")
    digest = hashlib.sha256(content).hexdigest()[:12]
    path = dest / f"{stem}.{digest}.{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path.relative_to(dest).as_posix()


def build(dest: Path = DEFAULT_DEST, node_modules: Path = DEFAULT_NODE_MODULES) -> dict[str, str]:
    """Build every asset into ``dest``; returns (and writes) the manifest: logical name -> built path."""
    dist, version = dsfr_dist(node_modules)
    if dest.exists():
        shutil.rmtree(dest)
    base = f"dsfr-{version}"
    (dest / base).mkdir(parents=True)
    for folder in ("fonts", "icons", "favicon"):
        shutil.copytree(dist / folder, dest / base / folder)
    # Each part's `main` and `print` styles; not its `legacy` ones (fallbacks for browsers without CSS custom
    # properties, Internet Explorer 11: 22 % of the bytes, for browsers the platform does not support).
    folders = [dist / "core", *(dist / "component" / c for c in COMPONENTS)]
    parts = [(folder / f"{folder.name}.{kind}.min.css").read_text(encoding="utf-8")
             for folder in folders for kind in ("main", "print")
             if (folder / f"{folder.name}.{kind}.min.css").is_file()]
    parts.append(_icon_rules(dist))
    # The bundle sits at <base>/, beside fonts/ and icons/.
    css = "\n".join(_URL.sub(lambda m: f"url({m.group(1)}{m.group(2)}/", part) for part in parts)
    # The Marianne @font-face rules go to a stylesheet of their own, which the pages apply after their first
    # paint (web.js; <noscript> without JavaScript): the fonts (177 KB) are then never fetched before it, the
    # text shows at once in the fallback scaled to Marianne (web.css), and swaps without moving.
    fonts = "\n".join(_FONT_FACE.findall(css))
    css = _FONT_FACE.sub("", css)
    manifest = {
        "dsfr.css": _fingerprinted(dest, f"{base}/dsfr.css", css.encode()),
        "fonts.css": _fingerprinted(dest, f"{base}/fonts.css", fonts.encode()),
        "dsfr.js": _fingerprinted(dest, f"{base}/dsfr.module.js", _scripts(dist)),
        "favicon.svg": f"{base}/favicon/favicon.svg",
        "favicon.ico": f"{base}/favicon/favicon.ico",
    }
    for name in OWN:
        manifest[name] = _fingerprinted(dest, name, (HERE / "static" / name).read_bytes())
    for path in dest.rglob("*"):
        if path.suffix in PRECOMPRESSED:
            content = path.read_bytes()
            path.with_name(path.name + ".br").write_bytes(brotli.compress(content, quality=11))
            path.with_name(path.name + ".gz").write_bytes(gzip.compress(content, compresslevel=9, mtime=0))
    # Written last and whole (renamed into place): a manifest that exists names files that exist.
    (dest / f"{MANIFEST}.tmp").write_text(json.dumps(manifest, indent=1))
    (dest / f"{MANIFEST}.tmp").replace(dest / MANIFEST)
    return manifest


def icons_used() -> set[str]:
    """The DSFR icon classes (fr-icon-…) our templates and scripts name."""
    sources = [*(HERE / "templates").rglob("*.html"), *(HERE / "static").glob("*.js")]
    return {name for source in sources for name in _ICON.findall(source.read_text(encoding="utf-8"))}


def _icon_rules(dist: Path) -> str:
    """The rules of the icons used, out of DSFR's icon utilities (1,500 icons, 250 KB): without its rule, an
    icon class draws its mask-less ::before, a filled square."""
    wanted = icons_used()
    rules = []
    for sheet in sorted((dist / "utility" / "icons").glob("icons-*/icons-*.main.min.css")):
        for rule in re.findall(r"[^{}]+\{[^}]*\}", sheet.read_text(encoding="utf-8")):
            selector = rule.split("{", 1)[0]
            if {m for m in _ICON.findall(selector)} & wanted:
                rules.append(rule)
    return "\n".join(rules)


def _scripts(dist: Path) -> bytes:
    """DSFR's core script and the scripts of the components used, in one module (not the whole 115 KB bundle).

    Each component's file declares its own top-level constants against `window.dsfr` (set by the core): each is
    wrapped in a block so that their names stay apart."""
    parts = [(dist / "core" / "core.module.min.js").read_text(encoding="utf-8")]
    for component in COMPONENTS:
        script = dist / "component" / component / f"{component}.module.min.js"
        if script.is_file():
            parts.append("{\n" + script.read_text(encoding="utf-8") + "\n}")
    return "\n".join(parts).encode()


def compile_catalogs(translations: Path = HERE / "translations") -> None:
    """messages.po -> messages.mo for each language (the .mo files are built, not kept in git).

    A catalog already compiled from the same .po is not written again: the image compiles them at build time
    and runs on a read-only root filesystem.
    """
    for po in translations.glob("*/LC_MESSAGES/messages.po"):
        with po.open("rb") as source:
            catalog = read_po(source)
        compiled = io.BytesIO()
        write_mo(compiled, catalog)
        mo = po.with_suffix(".mo")
        if not mo.is_file() or mo.read_bytes() != compiled.getvalue():
            mo.write_bytes(compiled.getvalue())


def ensure_built(dest: Path, node_modules: Path) -> dict[str, str]:
    """The manifest of the built assets, building them first when missing or stale.

    Under a file lock beside ``dest``: the workers of one `serve --workers N` start together, and two builds
    into one folder would remove each other's files.
    """
    compile_catalogs()
    manifest = dest / MANIFEST
    if manifest.is_file() and _current(manifest, dest):
        return json.loads(manifest.read_text())
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (dest.parent / f".{dest.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if manifest.is_file() and _current(manifest, dest):
            return json.loads(manifest.read_text())
        return build(dest, node_modules)


def _current(manifest: Path, dest: Path) -> bool:
    built = json.loads(manifest.read_text())
    return all((dest / built.get(n, "-")).is_file() and built[n] == _expected_name(n) for n in OWN)


def _expected_name(name: str) -> str:
    stem, _, suffix = name.rpartition(".")
    return f"{stem}.{hashlib.sha256((HERE / 'static' / name).read_bytes()).hexdigest()[:12]}.{suffix}"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DEST
    modules = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_NODE_MODULES
    compile_catalogs()
    print(json.dumps(build(target, modules), indent=1))
    # The « Guide d'utilisation » too, with the screenshots of the source tree (web/docs/screenshots, beside
    # node_modules): an image's assets folder is read-only at run time, and its package holds no screenshots.
    from . import user_guide

    print(user_guide.ensure_built(target / "guide", modules.parent / "docs" / "screenshots"))
