"""The replies flow: runs on an interval schedule (see prefect.yaml, flows/serve.py)."""

from __future__ import annotations

from prefect import flow, task

from chapar import inbox
from flows.secrets import load_api_key


@task(name="read-replies", retries=2, retry_delay_seconds=5)
def read_replies() -> inbox.InboxSync:
    return inbox.sync_inbox()


@flow(name="sync-inbox", log_prints=True)
def sync_inbox() -> dict[str, int]:
    """Read the lines' new replies; opt-outs and opt-ins join the suppression ledger."""
    load_api_key()
    result = read_replies()
    if result.unsupported:
        print(f"the provider cannot read replies of: {', '.join(result.unsupported)}")
    return {
        "lines": result.lines,
        "read": result.read,
        "new": result.new,
        "opted_out": result.opted_out,
        "opted_in": result.opted_in,
        "other": result.other,
    }
