"""Two workers that share no file: the data side on PostgreSQL (CHAPAR_STORE).

Each worker is what a machine runs: its own working directory and ``CHAPAR_DATA_DIR``, and
the real ``chapar`` command (``python -m chapar send|rebuild ID``, the engine in-process),
with ``CHAPAR_STORE`` naming one PostgreSQL database — the only thing the workers share,
with the simulator (the provider, whose outbox is the truth). The test process is a third
machine: the operator's, reading and checking through the same store. PostgreSQL is
Debian's, started by tests/postgres_fixtures.py (skipped, saying what to install, without
it); the lease TTL is 3 s, so a dead worker's run is free again within seconds.

What holds across the workers: two campaigns send at once, one from each; a duplicate start
on the other worker is refused (Busy) while the lease is live; a SIGKILLed worker's run is
refused to the survivor until its lease lapses — a pid means nothing across machines — and
is then rebuilt with 0 duplicates, 0 missing and the money invariant; ``chapar report``
reads while both send, without lock errors; random SIGKILLs of either worker, each followed
by rebuilds on the survivor, end with both campaigns complete and exactly once; and the same
with each worker in a network namespace of its own (tests/netns_bridge.py), reaching the
store and the provider through Unix sockets and nothing else. And the same sends through
Prefect: tests/test_scale_out.py's two workers of a process work pool,
with the shared store.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from chapar import reports
from chapar.campaigns import CampaignStatus
from chapar.errors import Busy
from chapar.sending import Mode, begin_run
from chapar.settings import get_settings
from chapar.store import repo
from tests.netns_bridge import UnixToTcp
from tests.postgres_fixtures import Postgres, create_database
from tests.test_scale_out import CampaignOutbox, Cluster, cluster  # noqa: F401 - a fixture
from tests.test_scale_out import (
    test_two_workers_on_postgres_send_two_campaigns_at_once_and_nothing_twice as prefect_sends,
)
from tests.test_sending import assert_exactly_once, numbers

pytestmark = pytest.mark.integration
N = 3_000  # numbers a campaign: 6 batches of 500
LEASE_TTL_S = 3.0
KILLED = -signal.SIGKILL
EXIT_UNFINISHED = 3
# Busy: the lease (a duplicate start runs again after PostgreSQL's conflict and finds it
# taken), or a transaction that kept conflicting; never PostgreSQL's own words.
REFUSED = ("is sending now", "kept changing the same data")
# In the chaos, a worker may also find its campaign moved on since it chose the command.
MOVED_ON = ("already sent", "only an unfinished run")
_databases = iter(range(1, 10**6))


@dataclass
class Job:
    """One ``chapar`` command running on a worker; its output goes to a log file."""

    proc: subprocess.Popen[bytes]
    log: Path
    args: tuple[str, ...]
    group: bool = False  # its own process group (a namespace's bridge and the command)

    def running(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.group:
            os.killpg(self.proc.pid, signal.SIGKILL)
        else:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def finish(self, timeout: float = 240) -> tuple[int, str]:
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"chapar {' '.join(self.args)} did not end in {timeout:.0f} s")
        return code, self.log.read_text(errors="replace")


@dataclass
class Worker:
    """A machine that sends: its own directories, the shared store's URL, nothing else."""

    name: str
    home: Path
    env: dict[str, str]
    jobs: list[Job] = field(default_factory=list)
    #: what runs the command (the network namespace's bridge), if anything
    prefix: tuple[str, ...] = ()

    def chapar(self, *args: str) -> Job:
        log = self.home / "logs" / f"{len(self.jobs):03d}-{'-'.join(args)}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "chapar", *args],
                cwd=self.home,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=bool(self.prefix),
            )
        job = Job(proc, log, args, group=bool(self.prefix))
        self.jobs.append(job)
        return job

    def run(self, *args: str, timeout: float = 240) -> tuple[int, str]:
        return self.chapar(*args).finish(timeout)

    def stop(self) -> None:
        for job in self.jobs:
            if job.running():
                job.kill()


@dataclass
class Machines:
    store: str
    workers: list[Worker]
    operator: Worker  # reads only: reports


def _machine(root: Path, name: str, store: str, simulator_port: int) -> Worker:
    home = root / name
    (home / "logs").mkdir(parents=True)
    # Nothing of this test's own settings leaks in: a machine has its own environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAPAR_")}
    env.update(
        CHAPAR_STORE=store,
        CHAPAR_DATA_DIR=str(home / "data"),
        CHAPAR_SIMULATOR_PORT=str(simulator_port),
        CHAPAR_SEND_WINDOW="always",
        CHAPAR_BATCH_SIZE="500",
        CHAPAR_PROVIDER_CONCURRENCY="1",
        CHAPAR_PROVIDER_TIMEOUT_S="5",
        CHAPAR_LEASE_TTL_S=str(LEASE_TTL_S),
    )
    return Worker(name, home, env)


@pytest.fixture
def machines(
    postgres: Postgres, simulator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Machines]:
    store = create_database(postgres, f"scale_out_{os.getpid()}_{next(_databases)}")
    monkeypatch.setenv("CHAPAR_STORE", store)
    monkeypatch.setenv("CHAPAR_LEASE_TTL_S", str(LEASE_TTL_S))
    get_settings.cache_clear()
    root = tmp_path / "machines"
    workers = [_machine(root, f"worker-{i}", store, simulator.port) for i in (1, 2)]
    operator = _machine(root, "operator", store, simulator.port)
    try:
        yield Machines(store, workers, operator)
    finally:
        simulator.set_faults(latency_ms=0)
        for machine in (*workers, operator):
            machine.stop()
    # No machine wrote a database file: the store is PostgreSQL alone.
    assert not list(root.rglob("*.duckdb")), list(root.rglob("*.duckdb"))
    assert not list(get_settings().data_dir.rglob("*.duckdb"))


def make_campaign(write: Any, name: str, start: int) -> tuple[int, set[str]]:
    """A campaign over its own list of N numbers, made on the operator's machine."""
    listed = numbers(N, start)
    repo.import_list(name, write(f"{name}.txt", "\n".join(listed)))
    cid = repo.create_campaign(f"Scale-out {name}", "سلام", "30001234", [name])
    receptors = {"98" + number[1:] for number in listed}
    return cid, receptors


def accepted(simulator: Any, receptors: set[str]) -> int:
    box = simulator.outbox()["receptors"]
    return sum(1 for n in receptors if n in box)


def wait_until(check: Any, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.1)


def status(cid: int) -> CampaignStatus:
    return repo.get_campaign(cid).status


def assert_refused(code: int, text: str, marks: tuple[str, ...] = REFUSED) -> None:
    assert code == 1 and any(mark in text for mark in marks), (code, text[-2000:])
    assert "duplicate key" not in text and "Traceback" not in text, text[-2000:]


def test_two_workers_send_two_campaigns_at_once_refuse_a_duplicate_and_reports_read(
    machines: Machines, simulator: Any, write: Any
) -> None:
    w1, w2 = machines.workers
    repo.topup(10**10)
    a, a_receptors = make_campaign(write, "list-a", 0)
    b, b_receptors = make_campaign(write, "list-b", 1_000_000)
    simulator.set_faults(latency_ms=1_500)  # 15 requests one at a time: ≥ 22 s a campaign

    sending_a, sending_b = w1.chapar("send", str(a)), w2.chapar("send", str(b))
    wait_until(
        lambda: accepted(simulator, a_receptors) and accepted(simulator, b_receptors),
        "both campaigns reach the provider",
    )
    assert repo.get_campaign(a).is_sending and repo.get_campaign(b).is_sending
    assert sending_a.running() and sending_b.running()  # at once, one on each worker

    # The operator's first reports leave with the duplicate starts on the other workers,
    # which meet the live leases.
    reads = [machines.operator.chapar("report", str(cid)) for cid in (a, b)]
    duplicates = [w2.chapar("send", str(a)), w1.chapar("rebuild", str(b))]
    for duplicate in duplicates:
        assert_refused(*duplicate.finish())
    assert sending_a.running() and sending_b.running()  # so the refusals met live leases

    # The operator reads while both send: reports, and the home page's summaries.
    seen_sending = 0
    while True:
        for job in reads:
            code, text = job.finish()
            assert code == 0, text[-2000:]
            assert "error:" not in text and "Traceback" not in text, text[-2000:]
            seen_sending += "run 1 (send): sending" in text
        assert {a, b} <= set(reports.campaign_summaries())
        if not (sending_a.running() or sending_b.running()):
            break
        reads = [machines.operator.chapar("report", str(cid)) for cid in (a, b)]
    assert seen_sending >= 1  # a report read a campaign in the middle of its send

    assert sending_a.finish()[0] == 0, sending_a.log.read_text()[-2000:]
    assert sending_b.finish()[0] == 0, sending_b.log.read_text()[-2000:]
    assert (status(a), status(b)) == (CampaignStatus.COMPLETED, CampaignStatus.COMPLETED)
    simulator.set_faults(latency_ms=0)
    box = simulator.outbox()["receptors"]
    assert set(box) == a_receptors | b_receptors
    assert_exactly_once(CampaignOutbox(simulator, a_receptors), a)
    assert_exactly_once(CampaignOutbox(simulator, b_receptors), b)
    code, text = machines.operator.run("report", str(a))
    assert code == 0 and "completed" in text, text


def test_a_killed_worker_s_run_waits_for_its_lease_then_the_other_worker_rebuilds_it(
    machines: Machines, simulator: Any, write: Any
) -> None:
    w1, w2 = machines.workers
    repo.topup(10**10)
    a, a_receptors = make_campaign(write, "list-a", 0)
    simulator.set_faults(latency_ms=300)

    sending = w1.chapar("send", str(a))
    wait_until(lambda: accepted(simulator, a_receptors) >= 700, "two batches reach the provider")
    sending.kill()
    killed_at = time.monotonic()

    # Its pid is dead on this very host, yet the lease holds until it expires: across
    # machines a pid proves nothing, so the store alone decides.
    assert repo.get_campaign(a).lease_live
    with pytest.raises(Busy):
        begin_run(a, Mode.REBUILD)
    wait_until(lambda: status(a) is CampaignStatus.UNFINISHED, "the lease lapses", timeout=60)
    lapsed_after = time.monotonic() - killed_at  # ≤ the TTL, plus this loaded box's delays

    code, text = w2.run("rebuild", str(a))
    assert code == 0, text[-3000:]
    assert status(a) is CampaignStatus.COMPLETED
    simulator.set_faults(latency_ms=0)
    assert_exactly_once(CampaignOutbox(simulator, a_receptors), a)
    print(f"\nthe killed worker's lease lapsed {lapsed_after:.1f} s after the kill")


def test_random_kills_of_either_worker_and_rebuilds_on_the_survivor_end_exactly_once(
    machines: Machines, simulator: Any, write: Any
) -> None:
    """Chaos: each worker keeps one of the unfinished campaigns going (send, or rebuild);
    every 1–3 s one of them that is running — the two in turn — is SIGKILLed (six kills).
    Refusals (the other worker's live lease) are expected; anything else is an error."""
    workers = machines.workers
    repo.topup(10**10)
    made = [make_campaign(write, f"list-{x}", i * 1_000_000) for i, x in enumerate("ab")]
    campaigns = {cid: receptors for cid, receptors in made}
    simulator.set_faults(latency_ms=400)  # ≥ 6 s of requests a campaign: room for kills
    rng = random.Random(13)
    jobs: dict[str, Job | None] = {w.name: None for w in workers}
    kills = {w.name: 0 for w in workers}
    refused = 0
    deadline = time.monotonic() + 420

    def unfinished() -> list[int]:
        return [c for c in campaigns if status(c) is not CampaignStatus.COMPLETED]

    while unfinished():
        assert time.monotonic() < deadline, f"not complete: kills {kills}, refused {refused}"
        for worker in workers:
            job = jobs[worker.name]
            if job is not None and not job.running():
                code, text = job.finish()
                if code == 1:
                    assert_refused(code, text, REFUSED + MOVED_ON)
                    refused += 1
                else:
                    assert code in (0, EXIT_UNFINISHED, KILLED), (code, text[-3000:])
                jobs[worker.name] = job = None
            if job is None and (left := unfinished()):
                cid = rng.choice(left)
                mode = "rebuild" if repo.get_campaign(cid).current_run else "send"
                jobs[worker.name] = worker.chapar(mode, str(cid))
        time.sleep(rng.uniform(1.0, 3.0))
        running = [w for w in workers if (j := jobs[w.name]) is not None and j.running()]
        if running and sum(kills.values()) < 6:
            victim = min(running, key=lambda w: kills[w.name])  # the two in turn
            job = jobs[victim.name]
            assert job is not None
            job.kill()
            kills[victim.name] += 1
    for job in jobs.values():
        if job is not None:
            job.finish()

    print(f"\nchaos: kills {kills}, refusals {refused}")
    assert all(n >= 1 for n in kills.values()), kills
    simulator.set_faults(latency_ms=0)
    everyone = set().union(*campaigns.values())
    assert set(simulator.outbox()["receptors"]) == everyone
    for cid, receptors in campaigns.items():
        assert_exactly_once(CampaignOutbox(simulator, receptors), cid)


@pytest.fixture
def store_for_prefect(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> str:
    """The shared store in this process's environment before the Prefect cluster starts:
    its workers, and the flow runs they start, inherit it."""
    store = create_database(postgres, f"prefect_{os.getpid()}_{next(_databases)}")
    monkeypatch.setenv("CHAPAR_STORE", store)
    get_settings.cache_clear()
    return store


def test_two_prefect_workers_send_two_campaigns_through_the_shared_store(
    store_for_prefect: str,
    cluster: Cluster,  # noqa: F811 - the fixture imported above
    simulator: Any,
    write: Any,
    chapar_home: Path,
) -> None:
    """The Prefect scale-out scenario (two campaigns at once, the first started twice: one
    run sends it, the other is refused by its lease; both exactly once) on the shared store."""
    prefect_sends(cluster, simulator, write)
    assert not list(chapar_home.rglob("*.duckdb"))
    assert not list(Path(cluster.logs).parent.rglob("*.duckdb"))


# --- machines of their own network ------------------------------------------------------------


def _namespaces_allowed() -> bool:
    try:
        return subprocess.run(["unshare", "--net", "--", "true"], timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture
def isolated(
    machines: Machines, postgres: Postgres, simulator: Any, tmp_path: Path
) -> Iterator[Machines]:
    """The two workers, each in a network namespace of its own (only its own loopback):
    they reach PostgreSQL and the simulator through Unix sockets, nothing else."""
    if not _namespaces_allowed():
        pytest.skip("network namespaces are not allowed here (unshare --net needs CAP_SYS_ADMIN)")
    [pg_socket] = list(postgres.data_dir.parent.rglob(f".s.PGSQL.{postgres.port}"))
    sim_socket = tmp_path / "simulator.sock"
    bridge = (sys.executable, str(Path(__file__).with_name("netns_bridge.py")))
    with UnixToTcp(sim_socket, simulator.port):
        for worker in machines.workers:
            worker.prefix = ("unshare", "--net", "--", *bridge,
                             f"{postgres.port}={pg_socket}", f"{simulator.port}={sim_socket}",
                             "--")  # fmt: skip
        yield machines


def network_of(job: Job) -> str:
    """The network namespace of the chapar process a job runs (the bridge's child)."""
    children = Path(f"/proc/{job.proc.pid}/task/{job.proc.pid}/children")
    wait_until(lambda: children.exists() and children.read_text().split(), "the worker starts")
    child = children.read_text().split()[0]
    return os.readlink(f"/proc/{child}/ns/net")


def test_workers_with_networks_of_their_own_share_only_the_store_and_the_provider(
    isolated: Machines, simulator: Any, write: Any
) -> None:
    w1, w2 = isolated.workers
    repo.topup(10**10)
    a, a_receptors = make_campaign(write, "list-a", 0)
    b, b_receptors = make_campaign(write, "list-b", 1_000_000)
    simulator.set_faults(latency_ms=300)
    sending_a, sending_b = w1.chapar("send", str(a)), w2.chapar("send", str(b))
    ours = os.readlink("/proc/self/ns/net")
    networks = {network_of(sending_a), network_of(sending_b)}
    assert len(networks) == 2 and ours not in networks  # three machines' networks

    wait_until(lambda: accepted(simulator, a_receptors) >= 700, "worker 1 sends")
    sending_a.kill()  # worker 1 dies mid-send; worker 2 rebuilds its run once the lease lapses
    assert sending_b.finish()[0] == 0, sending_b.log.read_text()[-2000:]
    wait_until(lambda: status(a) is CampaignStatus.UNFINISHED, "the lease lapses", timeout=60)
    code, text = w2.run("rebuild", str(a))
    assert code == 0, text[-3000:]
    assert (status(a), status(b)) == (CampaignStatus.COMPLETED, CampaignStatus.COMPLETED)
    simulator.set_faults(latency_ms=0)
    assert_exactly_once(CampaignOutbox(simulator, a_receptors), a)
    assert_exactly_once(CampaignOutbox(simulator, b_receptors), b)
