"""A consumer in its own process, for the tests that kill it. Configured by environment variables."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import event as sa_event

sys.path.insert(0, str(Path(__file__).parent))

from achats.chassis.bus import EventConsumer
from achats.chassis.bus.amqp import AmqpTransport
from achats.chassis.db import Database
from achats.chassis.logging import configure_logging

from bus_support import EVENT, record_effect


def main() -> None:
    configure_logging("INFO", json=True)
    mode = os.environ["MODE"]  # normal | hang | die-after-commit
    signal_file = Path(os.environ["SIGNAL_FILE"])
    db = Database(os.environ["DATABASE_URL"])

    def handler(session, event):
        record_effect(session, event)
        if mode == "hang":
            session.flush()  # the effect is written, not committed
            signal_file.write_text(event.id)
            time.sleep(120)
        elif mode == "die-after-commit":
            @sa_event.listens_for(session, "after_commit", once=True)
            def _die(_session):
                signal_file.write_text(event.id)
                os.kill(os.getpid(), signal.SIGKILL)  # committed, never acknowledged

    transport = AmqpTransport(os.environ["AMQP_URL"], exchange=os.environ["EXCHANGE"])
    consumer = EventConsumer(name="sample", db=db, transport=transport, handlers={EVENT: handler},
                             queue_prefix=os.environ["PREFIX"], retry_delays=(0.05, 0.1))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    consumer.run(stop)


if __name__ == "__main__":
    main()
