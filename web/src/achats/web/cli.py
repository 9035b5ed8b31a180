"""``achats-web serve | worker | migrate``."""

from achats.chassis.cli import service_main

from .app import SERVICE

main = service_main(SERVICE, "achats.web.app:SERVICE")
