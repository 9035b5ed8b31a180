"""``achats-notifier serve | worker | migrate | dlq list|replay``."""

from achats.chassis.cli import service_main

from .app import SERVICE

main = service_main(SERVICE, "achats.notifier.app:SERVICE")
