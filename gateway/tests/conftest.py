"""Fixtures of the gateway tests: stand-in upstreams served over real HTTP, and the gateway itself."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
