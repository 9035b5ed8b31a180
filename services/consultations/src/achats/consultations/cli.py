"""``achats-consultations serve | worker | migrate | dlq | purge``."""

from __future__ import annotations

import json
import sys

from achats.chassis.cli import service_main
from achats.chassis.logging import configure_logging
from achats.chassis.settings import SettingsError

from .app import SERVICE

_service_main = service_main(SERVICE, "achats.consultations.app:SERVICE")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] != ["purge"]:
        return _service_main(argv)
    if len(argv) > 1:
        print("usage: achats-consultations purge   (practice answers 30 days past their deadline, with their files)",
              file=sys.stderr)
        return 2
    try:
        settings = SERVICE.load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    from .deposits import purge

    runtime = SERVICE.runtime(settings)
    try:
        print(json.dumps(purge(runtime.db.unit_of_work(), runtime.deps.depot)))
    finally:
        runtime.db.dispose()
    return 0
