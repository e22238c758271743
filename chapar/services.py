"""`chapar up`: everything on one machine — a Prefect server (SQLite under data/), the
served deployments, the provider simulator and the dashboard — started, watched and stopped
together. Child processes only: this module imports neither Prefect nor Streamlit.

Nothing outlives `chapar up`, however it ends:

- Ctrl-C or SIGTERM: every service's process group gets SIGTERM at once, SIGKILL after
  :data:`STOP_GRACE_S`.
- SIGKILL (no chance to clean up): on Linux each service asked the kernel for SIGTERM when
  its parent dies (``prctl(PR_SET_PDEATHSIG)``, set between fork and exec); and a watchdog
  process holds the read end of a pipe from `chapar up` — when `chapar up` dies, for any
  reason, the pipe closes and the watchdog signals every service's process group (which
  also reaches what a service itself started), SIGKILL after the grace, then exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from chapar.errors import ChaparError
from chapar.settings import Settings, get_settings

READY_TIMEOUT_S = 120.0
#: seconds between SIGTERM and SIGKILL when stopping every service at once
STOP_GRACE_S = 2.5
_PR_SET_PDEATHSIG = 1


def _libc_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


#: loaded in the parent: the child, between fork and exec, only calls it
_PRCTL = _libc_prctl()


def die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGTERM when ``parent_pid`` dies (Linux;
    None elsewhere). The kernel ties this to the *thread* that forks: start services from
    a thread that lives as long as they should (the main thread)."""
    prctl = _PRCTL
    if prctl is None:
        return None
    term = int(signal.SIGTERM)  # plain ints: the child does as little as possible

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, term, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), term)

    return preexec


#: The watchdog (``python -c``): reads process-group ids, one a line, from stdin; at EOF —
#: `chapar up` stopped or died — signals each group still there, then SIGKILL after a grace.
_WATCHDOG = """
import os, signal, sys, time
groups = set()
for line in sys.stdin:
    if line.strip():
        groups.add(int(line))
grace = float(sys.argv[1])
def alive(group):
    try:
        os.killpg(group, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False
for sig in (signal.SIGTERM, signal.SIGKILL):
    for group in [g for g in groups if alive(g)]:
        try:
            os.killpg(group, sig)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(g) for g in groups):
        time.sleep(0.05)
"""


class Watchdog:
    """Stops the services' process groups when the process that started it ends."""

    def __init__(self, grace_s: float = STOP_GRACE_S) -> None:
        # Not in the services' session, and no PDEATHSIG: it must outlive its parent.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(grace_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _say(self, line: str) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(line.encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def watch(self, group: int) -> None:
        self._say(str(group))

    def close(self) -> None:
        """Normal end: the services are stopped; the watchdog checks and exits."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            with contextlib.suppress(BrokenPipeError):
                self.proc.stdin.close()
        try:
            self.proc.wait(2 * STOP_GRACE_S + 2)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class PortInUse(ChaparError):
    pass


def prefect_env(home: Path, port: int) -> dict[str, str]:
    """The environment every Chapar process shares to reach a local Prefect server whose
    home (SQLite database, settings) is ``home``."""
    api = f"http://127.0.0.1:{port}/api"
    return {
        "PREFECT_HOME": str(home.resolve()),
        "PREFECT_API_URL": api,
        "PREFECT_UI_API_URL": api,
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # With the default batch of 1 the server lags far behind a busy flow and loses
        # run history at exit (STACK-NOTES); 200 keeps it current.
        "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "200",
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",
        "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    }


def prefect_server_service(port: int) -> Service:
    """`prefect server start` on 127.0.0.1, ready when its health endpoint answers."""
    return Service(
        "prefect-server",
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)],
        port,
        f"http://127.0.0.1:{port}/api/health",
        f"http://127.0.0.1:{port}",
    )  # fmt: skip


def prefect_api_url(settings: Settings | None = None) -> str:
    """PREFECT_API_URL if set, else the local server `chapar up` runs."""
    settings = settings or get_settings()
    return os.environ.get("PREFECT_API_URL") or f"http://127.0.0.1:{settings.prefect_port}/api"


def use_prefect() -> bool:
    """Point this process at a reachable Prefect server; False if there is none (a run of
    Prefect without a server would start a temporary one per process, losing its history)."""
    url = prefect_api_url()
    try:
        if httpx.get(f"{url}/health", timeout=2).status_code != 200:
            return False
    except httpx.HTTPError:
        return False
    os.environ["PREFECT_API_URL"] = url
    return True


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class Service:
    name: str
    argv: list[str]
    port: int
    ready_url: str
    url: str
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, env: dict[str, str], logs: Path, cwd: Path) -> None:
        """Start in its own session (its own process group: Ctrl-C in the terminal reaches
        only `chapar up`, which stops the services in order), and on Linux with SIGTERM
        promised to it when this process dies."""
        with open(logs / f"{self.name}.log", "ab") as log:  # the child keeps its own copy
            self.proc = subprocess.Popen(
                self.argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                start_new_session=True,
                preexec_fn=die_with_parent(os.getpid()),
            )

    def wait_ready(self, logs: Path) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                tail = (logs / f"{self.name}.log").read_text(errors="replace")[-1500:]
                raise ChaparError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            try:
                if httpx.get(self.ready_url, timeout=1).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise ChaparError(f"{self.name} did not answer on {self.ready_url} in time")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Prefect's runner may ignore the first signal: ask twice, then insist.
        for sig, wait in ((signal.SIGTERM, 5), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def stop_all(services: list[Service], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to every service's process group at once, SIGKILL to what is left after
    ``grace_s``: stopping takes the slowest service's time, not the sum."""
    running = [s for s in services if s.proc is not None and s.proc.poll() is None]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for service in running:
            assert service.proc is not None
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(service.proc.pid, sig)
        deadline = time.monotonic() + grace_s
        for service in running:
            assert service.proc is not None
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.proc.wait(max(0.0, deadline - time.monotonic()))
        running = [s for s in running if s.proc is not None and s.proc.poll() is None]
        if not running:
            return


def plan_services(settings: Settings) -> list[Service]:
    py = sys.executable
    # dashboards/ sits beside chapar/, in the repository and in site-packages alike.
    app = Path(__file__).resolve().parent.parent / "dashboards" / "app.py"
    prefect = prefect_server_service(settings.prefect_port)
    services = [prefect]
    if settings.provider == "simulator":
        services.append(
            Service(
                "simulator",
                [
                    py,
                    "-m",
                    "chapar.simulator",
                    "--host",
                    settings.simulator_host,
                    "--port",
                    str(settings.simulator_port),
                ],
                settings.simulator_port,
                f"http://{settings.simulator_host}:{settings.simulator_port}/_simulator/state",
                f"http://{settings.simulator_host}:{settings.simulator_port}/v1",
            )
        )
    services.append(
        Service(
            "dashboard",
            [
                py,
                "-m",
                "streamlit",
                "run",
                str(app),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(settings.dashboard_port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            settings.dashboard_port,
            f"http://127.0.0.1:{settings.dashboard_port}/_stcore/health",
            f"http://127.0.0.1:{settings.dashboard_port}",
        )
    )
    return services


def check_ports(services: list[Service]) -> None:
    for service in services:
        if not port_free(service.port):
            raise PortInUse(
                f"port {service.port} ({service.name}) is in use: stop what holds it, or choose "
                f"another with CHAPAR_{_port_setting(service.name)}"
            )


def _port_setting(name: str) -> str:
    return {
        "prefect-server": "PREFECT_PORT",
        "simulator": "SIMULATOR_PORT",
        "dashboard": "DASHBOARD_PORT",
    }[name]


def up(
    seed: Callable[[], str | None] | None = None,
    say: Callable[[str], None] = print,
    stop_after: float | None = None,
) -> None:
    """Start everything, print the URLs, and stop it all on Ctrl-C (or after ``stop_after``
    seconds, for the smoke test)."""
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    logs = settings.data_dir / "run"
    logs.mkdir(exist_ok=True)
    (settings.data_dir / "prefect").mkdir(exist_ok=True)
    services = plan_services(settings)
    check_ports(services)
    env = {
        **os.environ,
        **prefect_env(settings.data_dir / "prefect", settings.prefect_port),
        "CHAPAR_DATA_DIR": str(settings.data_dir.resolve()),
    }
    cwd = Path(__file__).resolve().parent.parent
    serve = Service("flows", [sys.executable, "-m", "flows.serve"], 0, "", "")
    started: list[Service] = []
    watchdog = Watchdog()

    def start(service: Service) -> None:
        service.start(env, logs, cwd)
        started.append(service)
        assert service.proc is not None
        watchdog.watch(service.proc.pid)  # its process group: the session leader's pid

    def on_signal(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # leaves whatever waits (a start-up, the watch loop)

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        for service in services:
            say(f"starting {service.name} …")
            start(service)
            service.wait_ready(logs)
        if seed is not None:
            note = seed()
            if note:
                say(note)
        say(
            "starting the flows (deployments: chapar-send, chapar-sync-status, "
            "chapar-sync-inbox, chapar-import-list) …"
        )
        start(serve)
        say("")
        for service in services:
            say(f"  {service.name:15} {service.url}")
        say(f"  {'database':15} {settings.database_path.resolve()}")
        say(f"  {'logs':15} {logs.resolve()}")
        say("\nChapar is up. Press Ctrl-C to stop.")
        deadline = None if stop_after is None else time.monotonic() + stop_after
        while deadline is None or time.monotonic() < deadline:
            for service in started:
                assert service.proc is not None
                if service.proc.poll() is not None:
                    raise ChaparError(
                        f"{service.name} stopped unexpectedly (exit "
                        f"{service.proc.returncode}); see {logs / service.name}.log"
                    )
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stopping short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            say("stopping …")
            stop_all(started)
            watchdog.close()
            say("stopped.")
        finally:
            signal.signal(signal.SIGINT, interrupt)
            signal.signal(signal.SIGTERM, previous)
