"""Settle by hand a batch whose outcome the provider cannot tell.

A provider that keeps no client-side ids (SMS.ir) cannot be asked which messages of a
failed request it holds, so the run stops with ``outcome_unknown`` and a rebuild would stop
there again. The user reads the provider's pack report and tells Chapar which numbers of
the batch went out: those are recorded ``sent`` and charged at the batch's frozen figures
(exactly as reconciliation would record them); every other message still pending in the
batch is given back, to be sent by the next rebuild. With no numbers, none went out.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from chapar.campaigns import RunStatus
from chapar.errors import InputError, NotAllowed
from chapar.numbers import normalize
from chapar.reasons import Code, Reason
from chapar.sending.batch import Checkpoint, open_batch
from chapar.sending.deliver import Delivery
from chapar.sending.record import record_batch
from chapar.sending.run import Mode, begin_run, finish_run
from chapar.settings import get_settings
from chapar.store import connect, fetch_one, retrying
from chapar.store.queries import q


@dataclass(frozen=True)
class Settled:
    batch_no: int
    sent: int  # recorded as sent and charged
    given_back: int  # pending again, for the next rebuild
    cost: int


def settle_batch(
    campaign_id: int, batch_no: int, sent_numbers: list[str], actor: str | None = None
) -> Settled:
    """Record the batch's numbers found in the provider's report as sent; give back the
    rest. Refused, with nothing written, when the batch is not in flight or a number given
    is not one of its pending messages."""
    wanted: dict[int, str] = {}
    for raw in sent_numbers:
        number = normalize(raw)
        if number is None:
            raise InputError(Code.INVALID_NUMBER, value=raw)
        wanted[number] = raw
    before = _awaiting(campaign_id, batch_no)
    ref = begin_run(campaign_id, Mode.REBUILD, actor=actor)  # the lease: nobody sends meanwhile
    settings = get_settings()

    def body(con: duckdb.DuckDBPyConnection) -> Settled:
        row = fetch_one(con.execute(q("batch_status"), {**ref.key, "batch_no": batch_no}))
        if row is None or row[0] != "in_flight":
            raise NotAllowed(Code.NOT_IN_FLIGHT, campaign=campaign_id, batch=batch_no)
        cp = open_batch(con, ref, batch_no, settings, None)
        assert isinstance(cp, Checkpoint) and cp.was_in_flight
        pending = dict(zip(cp.frozen["number"].to_list(), cp.local_ids, strict=True))
        strangers = [raw for number, raw in wanted.items() if number not in pending]
        if strangers:
            raise InputError(
                Code.NOT_IN_BATCH,
                batch=batch_no,
                count=len(strangers),
                samples=", ".join(strangers[:5]),
            )
        delivery = Delivery()
        for number in wanted:
            delivery.local_ids.append(pending[number])
            delivery.message_ids.append(None)  # type: ignore[arg-type]  # the report's ids are not ours
            delivery.states.append("sent")
        record_batch(con, ref, cp, delivery, settings)
        sent = set(delivery.local_ids)
        cost = cp.cost_of(sent)
        return Settled(batch_no, len(sent), len(pending) - len(sent), cost)

    try:
        result = retrying(body)
    except BaseException:
        finish_run(ref, RunStatus.UNFINISHED, before, actor=actor)  # as it was
        raise
    finish_run(
        ref,
        RunStatus.UNFINISHED,
        Reason(Code.SETTLED, {"batch": batch_no, "sent": result.sent, "back": result.given_back}),
        actor=actor,
    )
    return result


def _awaiting(campaign_id: int, batch_no: int) -> Reason | None:
    """Why the campaign stopped, if its current run's batch awaits settlement (in flight)."""
    with connect() as con:
        row = fetch_one(
            con.execute(
                q("campaign_stop_reason"), {"campaign_id": campaign_id, "batch_no": batch_no}
            )
        )
    if row is None or row[2] != "in_flight":
        raise NotAllowed(Code.NOT_IN_FLIGHT, campaign=campaign_id, batch=batch_no)
    return Reason.stored(row[0], row[1])
