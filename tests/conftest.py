"""Shared fixtures: every test gets its own DuckDB file under tmp_path and fresh settings.

``CHAPAR_TEST_STORE=pg`` runs the same tests on the shared store instead: one PostgreSQL
cluster for the session (tests/postgres_fixtures.py) and a new database for every test,
named by ``CHAPAR_STORE``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chapar.settings import get_settings

# Tests run at any hour: no sending window unless a test sets one.
os.environ.setdefault("CHAPAR_SEND_WINDOW", "always")


STORE_UNDER_TEST = os.environ.get("CHAPAR_TEST_STORE", "duckdb")
_database_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def chapar_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Path]:
    home = tmp_path / "data"
    monkeypatch.setenv("CHAPAR_DATA_DIR", str(home))
    monkeypatch.setenv("CHAPAR_SEND_WINDOW", "always")
    if STORE_UNDER_TEST == "pg":
        from tests.postgres_fixtures import create_database

        pg = request.getfixturevalue("postgres")
        url = create_database(pg, f"chapar_test_{os.getpid()}_{next(_database_numbers)}")
        monkeypatch.setenv("CHAPAR_STORE", url)
    else:
        monkeypatch.delenv("CHAPAR_STORE", raising=False)
    get_settings.cache_clear()
    yield home
    get_settings.cache_clear()


@pytest.fixture
def write(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a text file under tmp_path and return its path."""

    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


from tests.postgres_fixtures import postgres  # noqa: E402, F401
from tests.prefect_fixtures import prefect_server, use_prefect_server  # noqa: E402, F401
from tests.simulator_fixtures import simulator, simulator_process  # noqa: E402, F401
