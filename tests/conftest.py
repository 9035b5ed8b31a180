"""Cross-service tests: they build services with the helpers of those services' own tests."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for folder in ("tests", "services/identity/tests", "services/company-registry/tests", "services/consultations/tests"):
    sys.path.insert(0, str(ROOT / folder))
