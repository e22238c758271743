"""`chapar up` (what `make run` runs): everything answers on its port, the demo is seeded
once, Ctrl-C stops it all cleanly, and a port in use is a clear error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
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


# --- nothing outlives `chapar up` --------------------------------------------------------------


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for children in Path(f"/proc/{todo.pop()}/task").glob("*/children"):
            try:
                kids = {int(p) for p in children.read_text().split()}
            except OSError:
                continue
            todo += kids - found
            found |= kids
    return found


def alive(pid: int) -> bool:
    """Running, i.e. neither gone nor a zombie waiting to be reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    """The pids still alive after up to ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        left = {p for p in pids if alive(p)}
        if not left:
            return left
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


def start_up(tmp_path: Path) -> tuple[subprocess.Popen[bytes], list[str]]:
    """`chapar up` (no demo) until it says it is up and the flows have started their runs."""
    env = up_env(tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-m", "chapar", "up", "--no-demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode() for line in iter(stdout.readline, b"")),
        daemon=True,
    )
    reader.start()
    deadline = time.monotonic() + 180
    while not any("Chapar is up" in line for line in lines):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("chapar up did not come up:\n" + "".join(lines))
        time.sleep(0.2)
    time.sleep(3)  # flows.serve imports Prefect and the flows, then starts its runner
    return proc, lines


def test_sigkill_of_chapar_up_leaves_no_service_running_5_s_later(tmp_path):
    proc, _ = start_up(tmp_path)
    try:
        started = descendants(proc.pid)
        assert len(started) >= 4, started  # Prefect, simulator, dashboard, flows (+ watchdog)
        proc.kill()
        proc.wait(5)
        left = wait_gone(started, 5.0)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not left, f"still running after SIGKILL of chapar up: {sorted(left)}"


def test_sigterm_of_chapar_up_stops_every_service_within_5_s(tmp_path):
    proc, lines = start_up(tmp_path)
    try:
        started = descendants(proc.pid)
        assert len(started) >= 4, started
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        left = wait_gone(started, 5.0)
        proc.wait(5)
        took = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not left, f"still running after SIGTERM of chapar up: {sorted(left)}"
    assert proc.returncode == 0 and took < 6
    assert "stopped." in "".join(lines)


def test_flows_serve_stops_within_2_s_of_one_sigterm(tmp_path, prefect_server):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        **prefect_server.env,
        "CHAPAR_DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "flows.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60  # serving: its deployments are registered
        while time.monotonic() < deadline:
            found = httpx.post(
                f"{prefect_server.api_url}/deployments/filter",
                json={"deployments": {"name": {"any_": ["chapar-schedules"]}}},
                timeout=5,
            ).json()
            if found:
                break
            time.sleep(0.5)
        else:
            pytest.fail("flows.serve did not register its deployments")
        time.sleep(2)  # its interval deployments start flow runs: those must stop too
        below = descendants(proc.pid)
        sent_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        took = time.monotonic() - sent_at
    finally:
        if proc.poll() is None:
            proc.kill()
    assert took < 2.5, f"flows.serve took {took:.1f} s to stop"
    assert not wait_gone(below, 2.0)
