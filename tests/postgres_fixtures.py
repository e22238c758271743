"""A throwaway PostgreSQL cluster for the tests that need one (Debian's ``postgresql``).

``postgres`` (session): ``initdb`` in a fresh temp dir, then the ``postgres`` server as
this process's child on a free port of 127.0.0.1 only (its unix socket in that dir too),
one database, password auth; stopped and removed at teardown, and stopped by the kernel
(a parent-death signal) if the test process is killed outright. PostgreSQL refuses to run
as root: as root the cluster belongs to the ``postgres`` system user, and its commands
drop to that user before they run. Without the binaries the test is skipped, saying what
to install.

Import it from the test module that needs it (not conftest)::

    from tests.postgres_fixtures import postgres  # noqa: F401
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
INSTALL_HINT = "apt-get install -y postgresql"
USER, PASSWORD, DATABASE = "chapar", "chapar-test", "prefect"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin dir (Debian keeps it off PATH), or PATH's."""
    tools = ("initdb", "postgres", "pg_isready", "createdb")

    def version(initdb: str) -> int:
        name = Path(initdb).parent.parent.name
        return int(name) if name.isdigit() else 0

    for initdb in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)[::-1]:
        if all((Path(initdb).parent / tool).exists() for tool in tools):
            return Path(initdb).parent
    found = [shutil.which(tool) for tool in tools]
    if all(found):
        return Path(str(found[0])).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Postgres:
    port: int
    user: str
    password: str
    database: str
    data_dir: Path

    def url(self, driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"


class _Cluster:
    """initdb, then ``postgres`` itself as our child, as the postgres user when we are root.

    The server runs in the foreground (not ``pg_ctl start``) with a parent-death signal:
    if the test process is killed outright, the kernel stops the cluster too.
    """

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.owner = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        self.proc: subprocess.Popen[bytes] | None = None

    def _env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "LC_ALL": "C", **(extra or {})}
        if self.owner is not None:
            env.update(HOME=self.owner.pw_dir, USER="postgres", LOGNAME="postgres")
        return env

    def _become_owner(self) -> None:  # runs in the child, between fork and exec
        if self.owner is not None:
            os.initgroups("postgres", self.owner.pw_gid)
            os.setgid(self.owner.pw_gid)
            os.setuid(self.owner.pw_uid)
        # After the uid change, which would clear it: SIGQUIT (immediate shutdown) when
        # the test process dies.
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGQUIT)

    def run(self, *argv: str, env: dict[str, str] | None = None) -> None:
        done = subprocess.run(
            [str(self.bin / argv[0]), *argv[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            timeout=60,
            env=self._env(env),
            preexec_fn=self._become_owner,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({done.returncode}):\n"
                f"{done.stdout[-2000:]}{done.stderr[-2000:]}\n{self.log_tail()}"
            )

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def prepare(self) -> None:
        self.root.chmod(0o700)
        (self.root / "pwfile").write_text(PASSWORD + "\n")
        if self.owner is not None:
            for path in (self.root, self.root / "pwfile"):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def start(self, port: int) -> None:
        self.run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={self.root / 'pwfile'}",
                 "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync")  # fmt: skip
        # A throwaway cluster: durability off, enough connections for a busy Prefect server.
        argv = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(port),
                "-k", str(self.root), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200"]  # fmt: skip
        log = open(self.log, "ab")  # noqa: SIM115 - the child's; closed when we return
        try:
            self.proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                env=self._env(),
                preexec_fn=self._become_owner,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited ({self.proc.returncode}):\n{self.log_tail()}")
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
                timeout=10,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections in 60 s:\n{self.log_tail()}")

    def create_database(self, port: int) -> None:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE,
                 env={"PGPASSWORD": PASSWORD})  # fmt: skip

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients cut off), then immediate (SIGQUIT), then SIGKILL."""
        if self.proc is None:
            return
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            if self.proc.poll() is not None:
                return
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
                return
            except subprocess.TimeoutExpired:
                continue


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries (initdb, postgres) not found: {INSTALL_HINT}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip(f"running as root and there is no 'postgres' user: {INSTALL_HINT}")
    # Not under pytest's tmp_path: its parents are root-only, the postgres user must enter.
    root = Path(tempfile.mkdtemp(prefix="chapar-pg-"))
    cluster = _Cluster(bin_dir, root)
    try:
        cluster.prepare()
        port = _free_port()
        cluster.start(port)
        cluster.create_database(port)
        yield Postgres(port, USER, PASSWORD, DATABASE, cluster.data)
    finally:
        try:
            cluster.stop()
        finally:
            shutil.rmtree(root, ignore_errors=True)


def create_database(pg: Postgres, name: str) -> str:
    """A new empty database on that cluster; its ``postgresql://`` URL (for CHAPAR_STORE)."""
    bin_dir = postgres_bin()
    assert bin_dir is not None
    subprocess.run(
        [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U", pg.user, name],
        env={**os.environ, "PGPASSWORD": pg.password},
        check=True,
        capture_output=True,
        timeout=60,
    )
    return f"postgresql://{pg.user}:{pg.password}@127.0.0.1:{pg.port}/{name}"
