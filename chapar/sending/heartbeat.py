"""The run's lease, kept alive for as long as its process sends.

A run's lease (owner, expiry) lets one process send it; a process that dies lets it lapse,
and a rebuild takes over. The heartbeat renews it every third of its TTL, from the moment
the run is leased until it is finished — between batches, while a batch's requests are out,
between Prefect tasks. Before every request the engine asks :meth:`Heartbeat.ok`: once a
renewal finds the lease gone, or no renewal succeeded for most of a TTL (this process was
frozen, or the store unreachable), no request leaves until a renewal says it is still ours.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from chapar.settings import Settings, get_settings
from chapar.store import fetch_one, transaction
from chapar.store.queries import q

if TYPE_CHECKING:
    from chapar.sending.run import RunRef

#: The heartbeat of each run this process sends, by lease owner.
_beating: dict[str, Heartbeat] = {}


def beating(ref: RunRef) -> Heartbeat | None:
    """The heartbeat already keeping this run's lease in this process, if any."""
    return _beating.get(ref.owner)


class Heartbeat:
    """Renews the run's lease every third of its TTL while requests are out.

    ``ok()`` is asked before every request: it is false once renewal found the lease gone,
    and also when no renewal succeeded for most of a TTL (this process was frozen, or the
    store unreachable) — then no request leaves until a renewal says the lease is still ours.
    """

    def __init__(self, ref: RunRef, settings: Settings | None = None) -> None:
        settings = settings or get_settings()
        self.ref = ref
        self.ttl = settings.lease_ttl_s
        self.valid_until = time.monotonic() + 0.8 * self.ttl  # renewed by transaction 1
        self.lost = False
        #: held by the heartbeat while it renews, and by the engine around its own writes to
        #: the run during delivery (DuckDB refuses two in-process writes to one row at once)
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        _beating[self.ref.owner] = self
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        _beating.pop(self.ref.owner, None)

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            self.renew()

    def renew(self) -> None:
        started = time.monotonic()
        try:
            with self.lock, transaction() as con:
                row = fetch_one(
                    con.execute(
                        q("run_renew_lease"),
                        {**self.ref.key, "owner": self.ref.owner, "ttl": self.ttl},
                    )
                )
        except Exception:  # the store was busy: the next beat tries again
            return
        if row is None:
            self.lost = True
        else:
            self.valid_until = started + 0.8 * self.ttl

    def renewed(self, started: float) -> None:
        """The engine renewed the lease itself (in a batch's transaction) at ``started``."""
        self.valid_until = max(self.valid_until, started + 0.8 * self.ttl)

    def ok(self) -> bool:
        return not self.lost and time.monotonic() < self.valid_until

    async def wait_ok(self) -> bool:
        """True at once when the lease is surely ours; after a stall, renews and waits up to
        a TTL for a verdict; False when the lease is lost or stays in doubt."""
        if self.ok():
            return True
        deadline = time.monotonic() + self.ttl
        await asyncio.to_thread(self.renew)
        while not self.ok() and not self.lost and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            await asyncio.to_thread(self.renew)
        return self.ok()
