"""Fixtures of the chassis tests; the platform-wide ones come from achats.chassis.testing.plugin."""

import sys
from pathlib import Path

# The sample service used to exercise the app factory lives next to the tests.
sys.path.insert(0, str(Path(__file__).parent))
