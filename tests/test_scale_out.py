"""Scale-out on one machine: the deployments of prefect.yaml on a Prefect server backed by
PostgreSQL, a process work pool and two workers — what `prefect deploy --all` and
`prefect worker start --pool chapar` do on many machines (docs/scale-out.md).

Two campaigns are started at once, and one of them twice (two flow runs of one campaign, as
a click racing a scheduled start would make): one run of that campaign sends, the other is
refused by the campaign's live lease and ends cancelled; both campaigns complete and every
planned number reaches the provider exactly once. The workers share this machine's DuckDB file: on
several machines that is where the data side must change (docs/scale-out.md).

The polling deployments (chapar-sync-status, chapar-schedules) are registered like the
others, then paused: their minute schedules would take worker slots at random moments.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from chapar.services import Service
from chapar.settings import get_settings
from chapar.store import repo
from tests.postgres_fixtures import Postgres, postgres  # noqa: F401
from tests.prefect_fixtures import free_port, prefect_env
from tests.test_sending import assert_exactly_once, numbers

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
SEND = "send-campaign/chapar-send"
POLLING = (
    "sync-delivery-status/chapar-sync-status",
    "sync-schedules/chapar-schedules",
    "sync-inbox/chapar-sync-inbox",
)
WORKERS = ("chapar-worker-1", "chapar-worker-2")
N = 4_000  # numbers a campaign: 8 batches of 500
LATENCY_MS = 1_500  # each batch waits this long for the provider: a campaign sends for >12 s,
# so the duplicate run meets a live lease even when the workers start it seconds apart
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Cluster:
    api_url: str
    logs: Path
    workers: list[Service]
    postgres: Postgres

    def flow_runs_in_postgres(self) -> int:
        """Flow runs of Chapar's deployments, counted in Prefect's tables in PostgreSQL."""
        import asyncpg

        async def count() -> int:
            con = await asyncpg.connect(self.postgres.url("postgresql"))
            try:
                return int(
                    await con.fetchval(
                        "SELECT count(*) FROM flow_run WHERE deployment_id IS NOT NULL"
                    )
                )
            finally:
                await con.close()

        return asyncio.run(count())


def _prefect(args: list[str], env: dict[str, str], logs: Path, name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "prefect", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    (logs / f"{name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        pytest.fail(
            f"prefect {' '.join(args)} failed ({done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-3000:]}"
        )


@contextmanager
def prefect_client(api_url: str) -> Iterator[Any]:
    """A sync Prefect client of this test's server (the process may have imported Prefect
    with other settings already: hence temporary_settings, not the environment)."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with (
        temporary_settings(updates={PREFECT_API_URL: api_url}),
        get_client(sync_client=True) as client,
    ):
        yield client


def _wait_workers_online(api_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with prefect_client(api_url) as client:
        while time.monotonic() < deadline:
            workers = client.read_workers_for_work_pool("chapar")
            online = {w.name for w in workers if w.status and w.status.value == "ONLINE"}
            if set(WORKERS) <= online:
                return
            time.sleep(0.5)
    pytest.fail(f"workers {WORKERS} did not come online in {timeout:.0f} s")


def _pause_polling(api_url: str) -> None:
    with prefect_client(api_url) as client:
        for name in POLLING:
            client.pause_deployment(client.read_deployment_by_name(name).id)


@pytest.fixture
def cluster(
    postgres: Postgres,  # noqa: F811 - the fixture imported above
    simulator: Any,
    chapar_home: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cluster]:
    """Prefect server on PostgreSQL, the pool, prefect.yaml's deployments, two workers."""
    logs = tmp_path / "logs"
    logs.mkdir()
    port = free_port()
    server_env = {
        **os.environ,
        **prefect_env(tmp_path / "prefect-server", port),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": postgres.url(),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
    }
    api_url = server_env["PREFECT_API_URL"]
    chapar = {
        # prefect.yaml's pull step: the flows' working directory, resolved by each worker
        "CHAPAR_HOME": str(ROOT),
        "CHAPAR_DATA_DIR": str(chapar_home),
        "CHAPAR_SIMULATOR_PORT": str(simulator.port),
        "CHAPAR_SEND_WINDOW": "always",
        "CHAPAR_BATCH_SIZE": "500",
    }
    for key, value in chapar.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    prefect = [sys.executable, "-m", "prefect"]
    server = Service(
        "prefect-server",
        [*prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        port,
        f"{api_url}/health",
        api_url,
    )
    workers = [
        Service(name, [*prefect, "worker", "start", "--pool", "chapar", "--limit", "2",
                       "--name", name], 0, "", "")
        for name in WORKERS
    ]  # fmt: skip
    started: list[Service] = []
    try:
        server.start(server_env, logs, ROOT)
        started.append(server)
        server.wait_ready(logs)
        client_env = {**os.environ, **prefect_env(tmp_path / "prefect-client", port), **chapar}
        _prefect(
            ["work-pool", "create", "chapar", "--type", "process"], client_env, logs, "work-pool"
        )
        # Deploy without CHAPAR_HOME: if set, `prefect deploy` writes its value into the
        # deployment; unset, the placeholder stays for each worker's own CHAPAR_HOME.
        deploy_env = {k: v for k, v in client_env.items() if k != "CHAPAR_HOME"}
        _prefect(["--no-prompt", "deploy", "--all"], deploy_env, logs, "deploy")
        _pause_polling(api_url)
        for worker in workers:  # each with its own PREFECT_HOME, as on its own machine
            worker.start(
                {
                    **client_env,
                    **prefect_env(tmp_path / worker.name, port),
                    "PREFECT_WORKER_QUERY_SECONDS": "1",
                    "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                },
                logs,
                ROOT,
            )
            started.append(worker)
        _wait_workers_online(api_url)
        yield Cluster(api_url, logs, workers, postgres)
    finally:
        for service in reversed(started):  # workers (SIGTERM twice, then SIGKILL), server
            service.stop()


class CampaignOutbox:
    """The simulator seen through one campaign's list: what assert_exactly_once reads."""

    def __init__(self, sim: Any, receptors: set[str]) -> None:
        self.sim, self.receptors = sim, receptors

    def outbox(self) -> dict[str, Any]:
        box = self.sim.outbox()
        return {
            **box,
            "receptors": {n: v for n, v in box["receptors"].items() if n in self.receptors},
        }


def make_campaign(write: Any, name: str, start: int) -> tuple[int, set[str]]:
    """A campaign over its own list of N numbers; returns its id and the numbers as the
    provider sees them."""
    listed = numbers(N, start)
    repo.import_list(name, write(f"{name}.txt", "\n".join(listed)))
    cid = repo.create_campaign(f"Scale-out {name}", "سلام", "30001234", [name])
    return cid, {"98" + number[1:] for number in listed}


def flow_runs(api_url: str, ids: list[Any]) -> list[Any]:
    with prefect_client(api_url) as client:
        return [client.read_flow_run(i) for i in ids]


def state(run: Any) -> str:
    return str(run.state.type.value) if run.state else "NONE"


def test_two_workers_on_postgres_send_two_campaigns_at_once_and_nothing_twice(
    cluster: Cluster, simulator: Any, write: Any
) -> None:
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    repo.topup(10**10)
    first, first_numbers = make_campaign(write, "list-a", 0)
    second, second_numbers = make_campaign(write, "list-b", 1_000_000)
    simulator.set_faults(latency_ms=LATENCY_MS)
    began = time.monotonic()
    with temporary_settings(updates={PREFECT_API_URL: cluster.api_url}):
        runs = [
            run_deployment(
                SEND, parameters={"campaign_id": cid, "mode": "start"}, timeout=0, as_subflow=False
            )
            # The first campaign twice, then the second: a worker takes up to two runs, so
            # the two campaigns most likely go to different workers (logged, not asserted).
            for cid in (first, first, second)
        ]
    ids = [run.id for run in runs]

    deadline = time.monotonic() + 180
    while True:
        # The flow runs first: a run turns final after its flow wrote the campaign's status,
        # so statuses read after it are final too (read before, they may be a moment old).
        found = flow_runs(cluster.api_url, ids)
        done = all(state(r) in FINAL for r in found)
        statuses = [repo.get_campaign(cid).status.value for cid in (first, second)]
        if done and statuses == ["completed", "completed"]:
            break
        if done or time.monotonic() > deadline:
            pytest.fail(
                f"{'stopped' if done else 'not done in 180 s'}: campaigns {statuses}, "
                f"flow runs {[(r.name, state(r), r.state and r.state.message) for r in found]};"
                f" logs in {cluster.logs}"
            )
        time.sleep(1)
    elapsed = time.monotonic() - began

    a1, a2, b = found
    where = {r.id: r.labels.get("prefect.worker.name") for r in found}
    print(
        f"\nboth campaigns completed {elapsed:.1f} s after the clicks; flow runs: "
        + ", ".join(
            f"{r.name} {state(r)} on {where[r.id]} (pid {r.infrastructure_pid})" for r in found
        )
    )
    assert set(where.values()) <= set(WORKERS), f"a flow run not run by our workers: {where}"

    # The same campaign twice: exactly one run sent it, the lease refused the other, which
    # ends cancelled (nothing to do), not failed (no alert for a harmless second start).
    assert sorted(state(r) for r in (a1, a2)) == ["CANCELLED", "COMPLETED"]
    assert state(b) == "COMPLETED"
    winner, loser = (a1, a2) if state(a1) == "COMPLETED" else (a2, a1)
    assert "is sending now" in (loser.state.message or ""), loser.state.message
    same = where[winner.id] == where[b.id]
    print(f"the two campaigns ran on {'the same worker' if same else 'different workers'}")

    # Prefect's records are in PostgreSQL, not in a SQLite file beside the server; the
    # deployment kept prefect.yaml's pull step for each worker to resolve ($CHAPAR_HOME).
    assert cluster.flow_runs_in_postgres() >= 3
    with prefect_client(cluster.api_url) as client:
        pull_steps = client.read_deployment_by_name(SEND).pull_steps
    assert "{{ $CHAPAR_HOME }}" in str(pull_steps), pull_steps

    # Nothing sent twice, nothing skipped, nothing outside the two lists.
    simulator.set_faults(latency_ms=0)
    outbox = simulator.outbox()["receptors"]
    assert set(outbox) <= first_numbers | second_numbers, "a number outside both lists was sent"
    assert_exactly_once(CampaignOutbox(simulator, first_numbers), first)
    assert_exactly_once(CampaignOutbox(simulator, second_numbers), second)
    assert len(outbox) == 2 * N
    assert [repo.get_campaign(c).current_run for c in (first, second)] == [1, 1]
