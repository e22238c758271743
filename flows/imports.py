"""The import flow: a recipient list or the telecom blacklist from a file on the worker."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from chapar.store import repo


@flow(name="import-file", flow_run_name="import-{kind}-{path}", log_prints=True)
def import_file(
    path: str,
    kind: str = "list",
    name: str | None = None,
    column: str | None = None,
    replace: bool = False,
    sheet: str | None = None,
    accept_invalid: bool = False,
) -> dict[str, int]:
    """``kind`` is ``list`` (needs ``name``) or ``blacklist``; the file is read and refused
    as ``chapar lists import`` reads and refuses it."""
    if kind == "blacklist":
        bl = repo.import_blacklist(Path(path), column, sheet=sheet, accept_invalid=accept_invalid)
        summary = {"added": bl.added, "already": bl.already, "invalid": bl.invalid}
    else:
        if not name:
            raise ValueError("a recipient list import needs a name")
        result = repo.import_list(
            name, Path(path), column, sheet=sheet, replace=replace, accept_invalid=accept_invalid
        )
        summary = {
            "valid": result.valid,
            "invalid": result.invalid,
            "duplicates": result.duplicates,
            "blacklisted": result.blacklisted,
        }
    create_markdown_artifact(
        "\n".join(f"- {k}: {v:,}" for k, v in summary.items()), description=f"import of {path}"
    )
    return summary
