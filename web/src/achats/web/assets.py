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

import hashlib
import io
import json
import re
import shutil
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

HERE = Path(__file__).parent
DEFAULT_NODE_MODULES = HERE.parents[2] / "node_modules"
DEFAULT_DEST = HERE / "static" / "build"
MANIFEST = "manifest.json"

# The DSFR components the templates use (dist/component/<name>/<name>.min.css), after the core.
COMPONENTS = ("link", "button", "form", "input", "select", "password", "checkbox", "radio", "alert", "notice",
              "callout", "card", "logo", "header", "footer", "translate", "skiplink", "navigation", "breadcrumb",
              "badge", "table", "upload")
OWN = ("web.css", "web.js")
_URL = re.compile(r"url\((['\"]?)\.\./(?:\.\./)?(fonts|icons)/")


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
    parts = [(dist / "core" / "core.min.css").read_text(encoding="utf-8")]
    parts += [(dist / "component" / c / f"{c}.min.css").read_text(encoding="utf-8") for c in COMPONENTS]
    # The bundle sits at <base>/, beside fonts/ and icons/.
    css = "\n".join(_URL.sub(lambda m: f"url({m.group(1)}{m.group(2)}/", part) for part in parts)
    manifest = {
        "dsfr.css": _fingerprinted(dest, f"{base}/dsfr.css", css.encode()),
        "dsfr.js": _fingerprinted(dest, f"{base}/dsfr.module.js", (dist / "dsfr.module.min.js").read_bytes()),
        "favicon.svg": f"{base}/favicon/favicon.svg",
        "favicon.ico": f"{base}/favicon/favicon.ico",
    }
    for name in OWN:
        manifest[name] = _fingerprinted(dest, name, (HERE / "static" / name).read_bytes())
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


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
    compile_catalogs()
    manifest = dest / MANIFEST
    if manifest.is_file():
        built = json.loads(manifest.read_text())
        own_current = all((dest / built.get(n, "-")).is_file()
                          and built[n] == _expected_name(n) for n in OWN)
        if own_current:
            return built
    return build(dest, node_modules)


def _expected_name(name: str) -> str:
    stem, _, suffix = name.rpartition(".")
    return f"{stem}.{hashlib.sha256((HERE / 'static' / name).read_bytes()).hexdigest()[:12]}.{suffix}"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DEST
    modules = Path(sys.argv[2]) if len(sys.argv) > 2 else DEFAULT_NODE_MODULES
    compile_catalogs()
    print(json.dumps(build(target, modules), indent=1))
