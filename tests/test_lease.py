"""A run's lease: on the embedded file a dead sender on this host lapses it at once; on a
shared store owner and expiry alone decide (a pid means nothing across machines), and the
heartbeat renews it every third of its TTL."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest

from chapar.campaigns import RunStatus
from chapar.lease import hostname, lease_is_live, store_is_shared
from chapar.sending import Mode, begin_run, finish_run
from chapar.sending.heartbeat import Heartbeat
from chapar.settings import get_settings
from chapar.store import connect
from tests.test_sending import make_campaign

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(seconds=60)


def _reaped_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the setting matters here: nothing connects.
    monkeypatch.setenv("CHAPAR_STORE", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAPAR_STORE", raising=False)
    get_settings.cache_clear()


def test_no_owner_or_no_expiry_or_a_past_expiry_is_no_lease_on_either_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for store in (None, "postgresql://nobody@127.0.0.1:1/none"):
        if store:
            monkeypatch.setenv("CHAPAR_STORE", store)
        get_settings.cache_clear()
        owner = f"elsewhere:1:{store is None}"
        assert not lease_is_live(None, LATER, NOW)
        assert not lease_is_live(owner, None, NOW)
        assert not lease_is_live(owner, NOW - timedelta(seconds=1), NOW)
        assert not lease_is_live(owner, NOW, NOW)
        assert lease_is_live(owner, LATER, NOW)


def test_on_the_embedded_file_a_dead_sender_on_this_host_lapses_its_lease_at_once(
    embedded: None,
) -> None:
    assert not store_is_shared()
    pid = _reaped_pid()
    assert not lease_is_live(f"{hostname()}:{pid}:abcd1234", LATER, NOW)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert lease_is_live(f"{hostname()}:{alive.pid}:abcd1234", LATER, NOW)
    finally:
        alive.kill()
        alive.wait()
    # another host's pid is not ours to check: its expiry decides
    assert lease_is_live(f"other-host:{pid}:abcd1234", LATER, NOW)


def test_on_a_shared_store_owner_and_expiry_alone_decide_whatever_the_pid(shared: None) -> None:
    assert store_is_shared()
    pid = _reaped_pid()
    # The same hostname on another machine (a clone, a container) with a pid that is dead
    # here: still its lease until it expires.
    assert lease_is_live(f"{hostname()}:{pid}:abcd1234", LATER, NOW)
    assert not lease_is_live(f"{hostname()}:{pid}:abcd1234", NOW - timedelta(seconds=1), NOW)


class CountingHeartbeat(Heartbeat):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.renewals: list[float] = []

    def renew(self) -> None:
        self.renewals.append(time.monotonic())
        super().renew()


def _expiry(campaign_id: int) -> datetime:
    with connect() as con:
        row = con.execute(
            "SELECT lease_expires FROM runs WHERE campaign_id = ? AND run_no = 1", [campaign_id]
        ).fetchone()
    assert row is not None and row[0] is not None
    return row[0]


def test_the_heartbeat_renews_the_lease_every_third_of_its_ttl(
    write, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CHAPAR_LEASE_TTL_S", "1.5")
    get_settings.cache_clear()
    cid = make_campaign(write, n=10)
    ref = begin_run(cid, Mode.START)
    taken = _expiry(cid)
    began = time.monotonic()
    with CountingHeartbeat(ref) as beat:
        time.sleep(2.4)  # past the TTL: only the renewals keep it
        assert beat.ok()
    gaps = [b - a for a, b in zip([began, *beat.renewals], beat.renewals, strict=False)]
    assert len(beat.renewals) >= 3, gaps
    assert all(0.4 <= gap <= 1.0 for gap in gaps), gaps  # a third of 1.5 s, on a loaded box
    assert _expiry(cid) > taken
    assert lease_is_live(ref.owner, _expiry(cid), datetime.now(UTC))
    assert finish_run(ref, RunStatus.UNFINISHED)
