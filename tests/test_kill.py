"""kill -9 of real sending processes, anywhere, then rebuild: every planned number reaches
the provider exactly once. Flows run in real Prefect against a real local server; some
rebuilds run through the CLI without Prefect, since the truth of progress is DuckDB's."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chapar.campaigns import CampaignStatus
from chapar.reasons import Code, Reason
from chapar.settings import get_settings
from chapar.store import repo
from tests.test_sending import assert_exactly_once, make_campaign

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
KILLED = -9


@pytest.fixture
def env(simulator, prefect_server, chapar_home, monkeypatch):  # type: ignore[no-untyped-def]
    values = {
        **prefect_server.env,
        "CHAPAR_DATA_DIR": str(chapar_home),
        "CHAPAR_SIMULATOR_PORT": str(simulator.port),
        "CHAPAR_BATCH_SIZE": "400",
        "CHAPAR_PROVIDER_TIMEOUT_S": "1",
        "CHAPAR_SEND_WINDOW": "always",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    return values


def flow_process(
    env: dict[str, str], campaign_id: int, mode: str, crash_at: str = ""
) -> subprocess.Popen[bytes]:
    code = f"from flows.send import send_campaign; send_campaign({campaign_id}, {mode!r})"
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env, "CHAPAR_CRASH_AT": crash_at},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def cli_process(env: dict[str, str], *args: str, crash_at: str = "") -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "chapar", *args],
        cwd=ROOT,
        env={**os.environ, **env, "CHAPAR_CRASH_AT": crash_at},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> int:
    _, err = proc.communicate(timeout=timeout)
    if proc.returncode not in (0, KILLED, 3):
        pytest.fail(f"process failed ({proc.returncode}): {err.decode()[-3000:]}")
    return proc.returncode


def test_kill_9_at_every_point_of_a_batch_then_rebuild_sends_each_number_once(
    env, simulator, write
):
    cid = make_campaign(write, n=4_000)
    # Exact points: committed in flight, answered but unrecorded, inside the recording
    # transaction, just after it; the first through Prefect, the others alternately.
    assert finish(flow_process(env, cid, "start", crash_at="prepared:2")) == KILLED
    campaign = repo.get_campaign(cid)
    assert (campaign.status, campaign.status_reason) == (
        CampaignStatus.UNFINISHED,
        Reason(Code.INTERRUPTED),
    )
    assert finish(cli_process(env, "rebuild", str(cid), crash_at="requested:2")) == KILLED
    assert finish(flow_process(env, cid, "rebuild", crash_at="recording:1")) == KILLED
    assert finish(cli_process(env, "rebuild", str(cid), crash_at="recorded:1")) == KILLED
    assert repo.get_campaign(cid).status is CampaignStatus.UNFINISHED
    assert finish(flow_process(env, cid, "rebuild")) == 0
    assert repo.get_campaign(cid).status is CampaignStatus.COMPLETED
    assert_exactly_once(simulator, cid)


def test_kill_9_at_random_moments_under_latency_then_rebuild_sends_each_number_once(
    env, simulator, write
):
    cid = make_campaign(write, n=4_000)
    simulator.set_faults(latency_ms=15)
    rng = random.Random(7)
    for attempt in range(6):
        mode = "rebuild" if repo.get_campaign(cid).current_run else "start"
        starter = (
            flow_process
            if attempt % 2 == 0
            else (lambda e, c, m: cli_process(e, "send" if m == "start" else m, str(c)))
        )
        proc = starter(env, cid, mode)
        time.sleep(rng.uniform(0.5, 4.0) if attempt % 2 else rng.uniform(3.0, 7.0))
        proc.kill()
        finish(proc)
        if repo.get_campaign(cid).status is CampaignStatus.COMPLETED:
            break
    simulator.set_faults(latency_ms=0)
    if repo.get_campaign(cid).status is not CampaignStatus.COMPLETED:
        assert finish(flow_process(env, cid, "rebuild")) == 0
    assert_exactly_once(simulator, cid)
