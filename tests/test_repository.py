"""What every tracked file of the repository must be: no merge-conflict markers left behind by a merge.

A merge that conflicted in a README was committed with its markers once (web/README.md, issue 15): nothing
else read the file, so nothing failed."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(rb"^(<<<<<<< |>>>>>>> |=======$)", re.MULTILINE)
BINARY = (".jpeg", ".jpg", ".png", ".woff2", ".woff", ".ico", ".pdf", ".p12", ".der", ".mo", ".gz", ".br")


def test_no_tracked_file_holds_merge_conflict_markers():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    found = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        if name.endswith(BINARY) or not path.is_file():
            continue
        content = path.read_bytes()
        # reStructuredText and Markdown setext headings underline with "=" too: only a line of exactly
        # seven counts, and only in a file that also has an opening marker.
        if b"<<<<<<< " in content and MARKER.search(content):
            found.append(name)
    assert found == []


def test_the_check_finds_a_conflict(tmp_path):
    sample = b"a\n<<<<<<< HEAD\nb\n=======\nc\n>>>>>>> main\n"
    assert b"<<<<<<< " in sample and MARKER.search(sample)
