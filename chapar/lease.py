"""The lease a sending run holds: who owns it, and until when.

An owner is ``host:pid:token``. On the same host a dead (or zombie) pid lapses the lease at
once, so a rebuild after a crash need not wait; elsewhere the expiry decides, so the TTL
must outlast the slowest batch (the sender renews it at every batch).
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime
from functools import cache


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


def lease_is_live(owner: str | None, expires: datetime | None, now: datetime) -> bool:
    if owner is None or expires is None or expires <= now:
        return False
    host, _, rest = owner.partition(":")
    pid = rest.split(":", 1)[0]
    return not (host == hostname() and pid.isdigit() and not pid_alive(int(pid)))
