"""The asset build as the image runs it: an explicit node_modules, and catalogs not rewritten when current."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

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
