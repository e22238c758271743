"""How a batch's messages leave: as requests of every affordable message not already at
the provider, in order, at most a request's size each; sent by a few senders that ask the
lease before each request, after any wait for the line's rate; all stopped together by an
error no request handles. A stub provider and lease: units of ``deliver`` alone."""

from __future__ import annotations

import asyncio
import random
from typing import Any, cast

import polars as pl
import pytest

from chapar.providers.base import MessageStatus, SendResult
from chapar.sending.batch import Checkpoint
from chapar.sending.deliver import Delivery, TokenBucket, deliver, requests_of
from chapar.sending.heartbeat import Heartbeat
from chapar.settings import get_settings


def checkpoint(n: int, affordable: int | None) -> Checkpoint:
    ids = list(range(10**8, 10**8 + n))
    return Checkpoint(1, False, ids, [f"98912{i:07d}" for i in range(n)], "3000", "hi", None,
                      pl.DataFrame(), affordable)  # fmt: skip


class Lease:
    """The heartbeat's answer, set by the test."""

    lost = False

    async def wait_ok(self) -> bool:
        return not self.lost


class Provider:
    """Accepts everything and counts what it was sent; ``fail_first`` raises a bug."""

    name = "stub"
    max_per_send = 200

    def __init__(self, fail_first: bool = False) -> None:
        self.calls = self.sent = 0
        self.fail_first = fail_first

    async def send_columns(self, ids: list[int], receptors: list[str], sender: str,
                           texts: Any) -> list[SendResult]:  # fmt: skip
        self.calls += 1
        if self.fail_first and self.calls == 1:
            raise RuntimeError("a bug")
        await asyncio.sleep(0.001)
        self.sent += len(ids)
        return [
            SendResult(i, r, str(i), MessageStatus.SENT, None)
            for i, r in zip(ids, receptors, strict=True)
        ]


def run(loop: asyncio.AbstractEventLoop, provider: Provider, cp: Checkpoint, lease: Lease,
        bucket: TokenBucket, concurrency: int) -> Delivery:  # fmt: skip
    settings = get_settings().model_copy(update={"provider_concurrency": concurrency})
    stub: Any = provider
    return loop.run_until_complete(
        deliver(stub, cp, set(), bucket, cast(Heartbeat, lease), settings, Delivery())
    )


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


def test_a_request_that_waited_for_the_rate_asks_the_lease_again_before_it_leaves() -> None:
    """A sender frozen while it waits for its line's rate must not send, on waking, on a
    lease check made before it froze: the check comes after the wait."""
    lease, provider = Lease(), Provider()

    class Bucket(TokenBucket):
        async def take(self, n: int) -> None:
            await asyncio.sleep(0.01)
            lease.lost = provider.sent > 0  # the lease lapsed while the second request waited

    loop = asyncio.new_event_loop()
    try:
        out = run(loop, provider, checkpoint(400, 400), lease, Bucket(60), concurrency=1)
    finally:
        loop.close()
    assert provider.sent == 200  # the first request only
    assert out.lease_in_doubt and len(out.local_ids) == 200


def test_an_error_no_request_handles_stops_every_sender() -> None:
    """A bug in one request must not leave the others sending the next time the thread's
    event loop runs (the engine runs it again to close the provider)."""
    provider = Provider(fail_first=True)
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="a bug"):
            run(loop, provider, checkpoint(4_000, None), Lease(), TokenBucket(None), 4)
        after = provider.calls
        loop.run_until_complete(asyncio.sleep(0.1))  # the loop runs again, as the engine's does
        assert provider.calls == after <= 4
    finally:
        loop.close()
