"""The export flow: a run's numbers to a CSV or Excel file in a job folder, its progress
beside it (``chapar.exports``); the dashboard polls the progress and offers the file."""

from __future__ import annotations

from typing import Any

from prefect import flow

from chapar.exports import ExportRequest, run_export


@flow(name="export-run", flow_run_name="export-{request[campaign_id]}-{request[fmt]}")
def export_run(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` is :meth:`chapar.exports.ExportRequest.params`. A failure is written to
    the job's progress for the dashboard, then fails the flow run too."""
    progress = run_export(ExportRequest.from_params(request))
    if progress.state == "failed":
        raise RuntimeError(progress.error.text("en") if progress.error else "export failed")
    return {"rows": progress.done, "file": progress.file}
