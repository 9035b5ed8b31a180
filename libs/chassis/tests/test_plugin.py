"""The pytest plugin fails, never skips, when a real database or broker cannot be had."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


@pytest.mark.parametrize(("fixture", "variable", "url", "service"), [
    ("postgres_url", "TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/postgres", "PostgreSQL"),
    ("amqp_url", "TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:1/", "RabbitMQ"),
])
def test_unreachable_service_fails_the_run_with_instructions(pytester, monkeypatch, fixture, variable, url, service):
    monkeypatch.setenv(variable, url)
    monkeypatch.setenv("TEST_SERVICES_PATIENCE", "1")
    pytester.makepyfile(f"""
        def test_needs_it({fixture}):
            assert {fixture}
    """)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{service} is required for these tests and is not reachable at {url}*"])
    assert "ensure-services.sh" in result.stdout.str()


def test_fresh_databases_are_empty_and_distinct(create_postgres_database):
    import psycopg

    first, second = create_postgres_database("plugin"), create_postgres_database("plugin")
    assert first != second
    with psycopg.connect(first) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
