"""Serve Chapar's deployments from one process (the embedded default of `make run`).

The names match prefect.yaml, so the dashboard and the CLI trigger the same deployments
whether they are served here or run by workers of a pool.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from prefect import serve
from prefect.deployments.runner import RunnerDeployment

from flows.imports import import_file
from flows.schedule import sync_schedules
from flows.send import send_campaign
from flows.status import sync_delivery_status

# A campaign sends in one flow run at a time (its lease); this caps campaigns at once.
SEND_LIMIT = 4


def main() -> None:
    # to_deployment returns a deployment, not a coroutine, when called outside async code.
    deployments = [
        send_campaign.to_deployment("chapar-send", concurrency_limit=SEND_LIMIT, tags=["chapar"]),
        sync_delivery_status.to_deployment(
            "chapar-sync-status", interval=timedelta(seconds=60), tags=["chapar"]
        ),
        import_file.to_deployment("chapar-import-list", tags=["chapar"]),
        sync_schedules.to_deployment(
            "chapar-schedules", interval=timedelta(seconds=60), tags=["chapar"]
        ),
    ]
    serve(*cast(list[RunnerDeployment], deployments), print_starting_message=False)


if __name__ == "__main__":
    main()
