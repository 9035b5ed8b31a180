"""``achats-consultations serve | worker | migrate | dlq``."""

from achats.chassis.cli import service_main

from .app import SERVICE

main = service_main(SERVICE, "achats.consultations.app:SERVICE")
