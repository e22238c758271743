"""Named queries, read from the ``.sql`` files beside this module.

Each file holds queries headed by ``-- name: <name>``; the lines up to the next header are
the query. Keeping SQL in files (as listmonk does) lets it be read and reviewed as SQL.

A store that needs another dialect (PostgreSQL, when ``CHAPAR_STORE`` is set) takes an entry
of the same name from ``queries/<dialect>/*.sql`` where there is one, and the common one
otherwise: a dialect difference is written in that one folder.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def _all(dialect: str | None = None) -> dict[str, str]:
    found: dict[str, str] = {}
    folder = resources.files("chapar.store") / "queries"
    if dialect is not None:
        folder = folder / dialect
        if not folder.is_dir():
            return found
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".sql"):
            continue
        name: str | None = None
        lines: list[str] = []
        for line in entry.read_text(encoding="utf-8").splitlines():
            if line.startswith("-- name:"):
                if name:
                    found[name] = "\n".join(lines).strip()
                name, lines = line.removeprefix("-- name:").strip(), []
            elif name:
                lines.append(line)
        if name:
            found[name] = "\n".join(lines).strip()
    return found


def q(name: str) -> str:
    """The SQL of the named query; a missing name is a programming error."""
    from chapar.store import dialect

    current = dialect()
    if current != "duckdb" and name in (overrides := _all(current)):
        return overrides[name]
    try:
        return _all()[name]
    except KeyError:
        raise KeyError(f"no query named {name!r} in chapar/store/queries/*.sql") from None
