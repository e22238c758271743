"""Shared fixtures: every test gets its own DuckDB file under tmp_path and fresh settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chapar.settings import get_settings

# Tests run at any hour: no sending window unless a test sets one.
os.environ.setdefault("CHAPAR_SEND_WINDOW", "always")


@pytest.fixture(autouse=True)
def chapar_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    home = tmp_path / "data"
    monkeypatch.setenv("CHAPAR_DATA_DIR", str(home))
    monkeypatch.setenv("CHAPAR_SEND_WINDOW", "always")
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


# --- provisional simulator fixture (to be replaced by tests/simulator_fixtures.py) ---------
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402


class _Sim:
    def __init__(self, port: int) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"

    def set_faults(self, **faults: object) -> None:
        httpx.post(f"{self.base_url}/_simulator/faults", json=faults, timeout=5).raise_for_status()

    def outbox(self) -> dict:  # type: ignore[type-arg]
        return httpx.get(f"{self.base_url}/_simulator/outbox", timeout=30).json()  # type: ignore[no-any-return]


@pytest.fixture
def simulator() -> Iterator[_Sim]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "chapar.simulator", "--port", str(port), "--delivery-delay-s", "0"]
    )
    sim = _Sim(port)
    for _ in range(100):
        try:
            httpx.get(f"{sim.base_url}/_simulator/state", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield sim
    proc.kill()
    proc.wait()


from tests.prefect_fixtures import prefect_server  # noqa: E402, F401
