"""pytest plugin of the platform: real PostgreSQL and RabbitMQ for each run, an SMTP sink, app clients.

Resolution order (DESIGN §8): TEST_DATABASE_URL / TEST_AMQP_URL, then the local defaults, then
testcontainers when a Docker engine answers, else the run FAILS with how to start them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
HOW_TO_START = (
    "Start the local services with `scripts/ensure-services.sh` (run by `make test`: it starts "
    "PostgreSQL and RabbitMQ, installing them with apt-get when run as root), or point the tests "
    "at running ones with TEST_DATABASE_URL=postgresql://user@host:5432/postgres and "
    "TEST_AMQP_URL=amqp://user:password@host:5672/."
)

RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count(1)


def unique_name(prefix: str) -> str:
    """A name no other test of any run uses: ``<prefix>_<run>_<n>``."""
    return f"{prefix}_{RUN_ID}_{next(_counter)}"


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _postgres_reachable(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip()


def _amqp_reachable(url: str) -> str | None:
    """None once RabbitMQ completes a handshake; the last error if it never does within the patience.

    A broker that listens but answers slowly (booting, or a loaded 2-core machine) gets several tries
    for `TEST_SERVICES_PATIENCE` seconds (default 45): one slow handshake must not fail the whole run.
    """
    import pika

    deadline = time.monotonic() + float(os.environ.get("TEST_SERVICES_PATIENCE", "45"))
    while True:
        try:
            params = pika.URLParameters(url)
            params.socket_timeout = 5
            params.stack_timeout = 10
            params.connection_attempts = 1
            pika.BlockingConnection(params).close()
            return None
        except Exception as exc:  # pika raises a zoo of exception types for "not there"
            if time.monotonic() >= deadline:
                return repr(exc)
            time.sleep(1)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server where the run may create and drop databases."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_DATABASE_URL).replace("+psycopg", "")
    error = _postgres_reachable(url)
    if error is None:
        yield url
        return
    if "TEST_DATABASE_URL" not in os.environ and _docker_available():
        from testcontainers.postgres import PostgresContainer  # type: ignore[import-not-found]

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    pytest.fail(f"PostgreSQL is required for these tests and is not reachable at {url}: {error}. "
                + HOW_TO_START, pytrace=False)


@pytest.fixture(scope="session")
def create_postgres_database(postgres_server_url: str) -> Iterator[Callable[[str], str]]:
    """Factory of fresh, empty databases on the test server, all dropped when the run ends."""
    import psycopg
    from sqlalchemy.engine import make_url

    created: list[str] = []

    def create(prefix: str = "achats_test") -> str:
        name = unique_name(prefix)
        with psycopg.connect(postgres_server_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)

    yield create
    with psycopg.connect(postgres_server_url, autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url(create_postgres_database: Callable[[str], str]) -> str:
    """One fresh database for the whole run."""
    return create_postgres_database("achats_test")


@pytest.fixture
def fresh_postgres_url(create_postgres_database: Callable[[str], str]) -> str:
    """A fresh database for one test."""
    return create_postgres_database("achats_test")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/test.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each kind in turn: behaviour must be the same on both."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("fresh_postgres_url")


@pytest.fixture(scope="session")
def amqp_url() -> str:
    url = os.environ.get("TEST_AMQP_URL", DEFAULT_AMQP_URL)
    error = _amqp_reachable(url)
    if error is not None:
        pytest.fail(f"RabbitMQ is required for these tests and is not reachable at {url}: {error}. "
                    + HOW_TO_START, pytrace=False)
    return url


@pytest.fixture
def bus_namespace() -> str:
    """Prefix for the exchange and queues of one test: runs and tests never see each other."""
    return f"{unique_name('test')}."


@pytest.fixture
def amqp_transport(amqp_url: str, bus_namespace: str) -> Iterator:
    """An AMQP transport on a private exchange; the exchange is deleted after the test."""
    from achats.chassis.bus.amqp import AmqpTransport

    transport = AmqpTransport(amqp_url, exchange=f"{bus_namespace}events")
    yield transport
    try:
        transport.delete_exchange()
    except Exception:  # the test may have left the broker unreachable on purpose
        pass


@pytest.fixture
def memory_transport(bus_namespace: str):
    from achats.chassis.bus.memory import MemoryTransport

    return MemoryTransport(f"memory://{bus_namespace}", exchange="achats.events")


@pytest.fixture
def smtp_sink() -> Iterator:
    from .smtp import SmtpSink

    with SmtpSink() as sink:
        yield sink


@pytest.fixture
def keys() -> Iterator:
    """A test key pair whose tokens the apps accept: its JWKS is served over HTTP at ``keys.jwks_url`` for the
    length of the test, which the test gives its apps as their ``jwks_url`` setting (as they get identity's in
    production). ``keys.token(...)`` signs one."""
    from .keys import JWKSServer, TestKeys

    pair = TestKeys()
    server = JWKSServer(pair.jwks())
    pair.jwks_url = server.url
    yield pair
    server.stop()


@pytest.fixture
def make_client() -> Callable:
    """``make_client(app)``: a test client of a connexion app (starlette TestClient)."""
    def make(app):
        return app.test_client()

    return make
