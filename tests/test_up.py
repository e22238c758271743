"""`chapar up` (what `make run` runs): everything answers on its port, the demo is seeded
once, Ctrl-C stops it all cleanly, and a port in use is a clear error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from chapar.services import port_free
from tests.prefect_fixtures import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def up_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return {
        **env,
        "CHAPAR_DATA_DIR": str(home),
        "CHAPAR_PREFECT_PORT": str(free_port()),
        "CHAPAR_SIMULATOR_PORT": str(free_port()),
        "CHAPAR_DASHBOARD_PORT": str(free_port()),
    }


def wait_answers(url: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} did not answer")


def test_up_starts_everything_seeds_the_demo_and_stops_on_ctrl_c(tmp_path):
    env = up_env(tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chapar", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        ports = [env[f"CHAPAR_{n}_PORT"] for n in ("PREFECT", "SIMULATOR", "DASHBOARD")]
        wait_answers(f"http://127.0.0.1:{ports[0]}/api/health")
        wait_answers(f"http://127.0.0.1:{ports[1]}/_simulator/state")
        wait_answers(f"http://127.0.0.1:{ports[2]}/_stcore/health")
        deadline = time.monotonic() + 60  # the served flows register their deployments
        while time.monotonic() < deadline:
            found = httpx.post(
                f"http://127.0.0.1:{ports[0]}/api/deployments/filter", json={}, timeout=5
            ).json()
            if {"chapar-send", "chapar-sync-status"} <= {d["name"] for d in found}:
                break
            time.sleep(1)
        else:
            pytest.fail("the deployments were not served")
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = output.decode()
    assert proc.returncode == 0, text
    assert "seeded the demo" in text and "stopped." in text
    assert all(port_free(int(p)) for p in ports), "a service outlived Ctrl-C"


def test_a_port_in_use_is_a_clear_error(tmp_path):
    env = up_env(tmp_path / "data")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(env["CHAPAR_DASHBOARD_PORT"])))
        busy.listen()
        result = subprocess.run(
            [sys.executable, "-m", "chapar", "up"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert b"(dashboard) is in use" in result.stderr
    assert b"CHAPAR_DASHBOARD_PORT" in result.stderr
