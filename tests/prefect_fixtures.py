"""A real Prefect server on 127.0.0.1 for the tests that need one (SQLite in a temp dir)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chapar import services

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prefect_env(home: Path, port: int) -> dict[str, str]:
    """What `chapar up` gives its processes, quieter for tests."""
    return {
        **services.prefect_env(home, port),
        "PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW": "ignore",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }


@dataclass
class PrefectServer:
    port: int
    env: dict[str, str]

    @property
    def api_url(self) -> str:
        return self.env["PREFECT_API_URL"]


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    home = tmp_path_factory.mktemp("prefect")
    port = free_port()
    env = prefect_env(home, port)
    server = services.prefect_server_service(port)
    server.start({**os.environ, **env}, home, ROOT)
    try:
        server.wait_ready(home)
        yield PrefectServer(port, env)
    finally:
        server.stop()


@pytest.fixture
def use_prefect_server(
    prefect_server: PrefectServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PrefectServer]:
    """Point this test process at the server: the environment (for child processes) and
    Prefect's settings context (Prefect reads the environment once, at import)."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    for key, value in prefect_server.env.items():
        monkeypatch.setenv(key, value)
    with temporary_settings(updates={PREFECT_API_URL: prefect_server.api_url}):
        yield prefect_server


def cancel_leftover_flow_runs() -> int:
    """Cancel flow runs other tests left scheduled on the shared server: campaign ids start
    at 1 in every test's database, so a runner must not pick up another test's run."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Cancelled

    waiting = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=waiting))
            )
        )
        for run in runs:
            client.set_flow_run_state(run.id, Cancelled(message="left by another test"), force=True)
    return len(runs)
