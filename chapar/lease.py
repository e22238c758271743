"""The lease a sending run holds: who owns it, and until when.

An owner is ``host:pid:token``. A lease is live while its expiry is in the future; the
heartbeat (:mod:`chapar.sending.heartbeat`) renews it every third of its TTL for as long as
its process sends, so only a dead or frozen process lets it lapse.

With the embedded DuckDB file every sender runs on the one machine that holds the file,
so a lease whose pid is dead (or a zombie) on this host lapses at once and a rebuild after
a crash need not wait. With a shared store (``CHAPAR_STORE`` set) senders run on several
machines whose hostnames may well be equal (containers, clones of one image) and a pid on
another machine means nothing here: owner and expiry alone decide, and a rebuild waits for
the TTL. The expiry is written with the writer's clock and read with the reader's: the
machines keep their clocks synchronised (NTP), far closer than the TTL.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from functools import cache

from chapar.settings import get_settings


@cache
def hostname() -> str:
    return socket.gethostname()


def new_owner() -> str:
    return f"{hostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent is a zombie: dead for us
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def store_is_shared() -> bool:
    """Senders may run on other machines: the store is PostgreSQL, not this host's file."""
    return bool(get_settings().store)


def lease_is_live(
    owner: str | None, expires: datetime | None, now: datetime, shared: bool | None = None
) -> bool:
    """Whether the lease still keeps others out; ``shared`` (default: the current setting)
    says whether the store is shared, i.e. whether this host's pids prove anything."""
    if owner is None or expires is None or expires <= now:
        return False
    if store_is_shared() if shared is None else shared:
        return True
    host, _, rest = owner.partition(":")
    pid = rest.split(":", 1)[0]
    return not (host == hostname() and pid.isdigit() and not pid_alive(int(pid)))
