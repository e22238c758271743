"""A throwaway PostgreSQL cluster for the tests that need one (Debian's ``postgresql``).

``postgres`` (session): ``initdb`` in a fresh temp dir, ``pg_ctl start`` on a free port of
127.0.0.1 only (its unix socket in that dir too), one database, password auth; stopped and
removed at teardown. PostgreSQL refuses to run as root: as root the cluster belongs to the
``postgres`` system user and every server command runs through ``runuser -u postgres --``.
Without the binaries the test is skipped, saying what to install.

Import it from the test module that needs it (not conftest)::

    from tests.postgres_fixtures import postgres  # noqa: F401
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install -y postgresql"
USER, PASSWORD, DATABASE = "chapar", "chapar-test", "prefect"


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin dir (Debian keeps it off PATH), or PATH's."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit()
        else 0,
    )  # fmt: skip
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
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
        return (f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/"
                f"{self.database}")  # fmt: skip


class _Cluster:
    """initdb / pg_ctl for one temp dir, as the postgres user when we are root."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin = bin_dir
        self.root = root
        self.data = root / "data"
        self.log = root / "postgres.log"
        self.as_root = os.geteuid() == 0
        self.owner = pwd.getpwnam("postgres") if self.as_root else None

    def run(self, *argv: str, env: dict[str, str] | None = None) -> None:
        cmd = [str(self.bin / argv[0]), *argv[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root, timeout=60,
                              env={**os.environ, "LC_ALL": "C", **(env or {})})  # fmt: skip
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}):\n"
                               f"{done.stdout[-2000:]}{done.stderr[-2000:]}\n{log}")  # fmt: skip

    def prepare(self) -> None:
        self.root.chmod(0o700)
        (self.root / "pwfile").write_text(PASSWORD + "\n")
        if self.owner is not None:
            for path in (self.root, self.root / "pwfile"):
                os.chown(path, self.owner.pw_uid, self.owner.pw_gid)

    def start(self, port: int) -> None:
        self.run("initdb", "-D", str(self.data), "-U", USER, f"--pwfile={self.root / 'pwfile'}",
                 "--auth=scram-sha-256", "--no-locale", "--encoding=UTF8", "--no-sync")  # fmt: skip
        options = (f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")  # fmt: skip
        self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                 "-w", "-t", "60", "start")  # fmt: skip

    def create_database(self, port: int) -> None:
        self.run("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE,
                 env={"PGPASSWORD": PASSWORD})  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL binaries (initdb, pg_ctl) not found: {INSTALL_HINT}")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip(f"running as root and there is no 'postgres' user: {INSTALL_HINT}")
        if shutil.which("runuser") is None:
            pytest.skip("running as root and there is no runuser to become 'postgres'")
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
