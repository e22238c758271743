"""The delivery-status flow: runs on an interval schedule (see prefect.yaml)."""

from __future__ import annotations

from prefect import flow

from flows.secrets import load_api_key
from tasks.sending import sync_statuses


@flow(name="sync-delivery-status", log_prints=True)
def sync_delivery_status() -> dict[str, int]:
    """Poll the provider for messages not yet final; blocked numbers join the blacklist."""
    load_api_key()
    result = sync_statuses()
    return {
        "checked": result.checked,
        "updated": result.updated,
        "blocked": result.blocked,
        "refunded": result.refunded,
    }
