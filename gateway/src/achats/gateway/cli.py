"""``achats-gateway serve``."""

from achats.chassis.cli import service_main

from .app import SERVICE

main = service_main(SERVICE, "achats.gateway.app:SERVICE")
