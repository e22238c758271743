"""How a batch becomes requests: every affordable message not already at the provider,
in order, at most a request's size each."""

from __future__ import annotations

import random
from typing import Any

import polars as pl
import pytest

from chapar.sending.batch import Checkpoint
from chapar.sending.deliver import requests_of


def checkpoint(n: int, affordable: int | None) -> Checkpoint:
    ids = list(range(10**8, 10**8 + n))
    return Checkpoint(1, False, ids, [f"98912{i:07d}" for i in range(n)], "3000", "hi", None,
                      pl.DataFrame(), affordable)  # fmt: skip


@pytest.mark.parametrize("n", [0, 1, 199, 200, 201, 1_000])
def test_requests_carry_the_affordable_messages_not_skipped_in_order(n: int) -> None:
    rng = random.Random(n)
    for _ in range(20):
        affordable = rng.choice([None, 0, n // 3, n])
        cp = checkpoint(n, affordable)
        skip = set(rng.sample(cp.local_ids, rng.randint(0, n // 2))) if n else set()
        reqs = requests_of(cp, skip, 200)
        expected = [lid for lid in cp.local_ids if lid not in skip][:affordable]
        assert [lid for r in reqs for lid in r.local_ids] == expected
        assert all(0 < len(r.local_ids) <= 200 for r in reqs)
        for r in reqs:
            assert r.receptors == [cp.receptors[lid - 10**8] for lid in r.local_ids]
            assert r.texts == "hi"


def test_an_error_no_request_handles_stops_every_sender() -> None:
    """A bug in one request must not leave the others sending the next time the thread's
    event loop runs (the engine runs it again to close the provider)."""
    import asyncio
    from typing import cast

    from chapar.sending.deliver import Delivery, TokenBucket, deliver
    from chapar.sending.heartbeat import Heartbeat
    from chapar.settings import get_settings

    class Lease:
        lost = False

        async def wait_ok(self) -> bool:
            return True

    calls = 0

    class Broken:
        name = "broken"
        max_per_send = 200

        async def send_columns(self, ids, receptors, sender, texts):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == 1:
                raise RuntimeError("a bug")
            await asyncio.sleep(0.01)
            return []

    settings = get_settings().model_copy(update={"provider_concurrency": 4})
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            lease = cast(Heartbeat, Lease())
            cp = checkpoint(4_000, None)
            broken: Any = Broken()
            loop.run_until_complete(
                deliver(broken, cp, set(), TokenBucket(None), lease, settings, Delivery())
            )
        after = calls
        loop.run_until_complete(asyncio.sleep(0.1))  # the loop runs again, as the engine's does
        assert calls == after <= 4
    finally:
        loop.close()
