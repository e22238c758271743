"""A ``chapar`` process that previews, imports and prices lists never loads pandas or
pyarrow.

DuckDB 1.5's Python binding imports pandas (≈110 MB with pyarrow and numpy) at the first
query parameter that is not None, and for every registered Polars frame; the import path
writes its values as SQL literals and hands DuckDB its frames as Arrow C streams instead
(chapar/store/repo.py). Each test runs the real command in a child process, on a fresh
store (so the migrations run there too), and reads what the child had loaded at the end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from chapar.store import connect, repo
from tests.conftest import STORE_UNDER_TEST

pytestmark = pytest.mark.skipif(
    STORE_UNDER_TEST == "pg", reason="the PostgreSQL store binds its connection URL"
)

#: Run ``chapar`` commands in this process, one after another, then print what was loaded.
CHILD = """
import json, os, sys
from chapar.cli import main

codes = []
for args in json.loads(sys.argv[1]):
    try:
        main(args)
        codes.append(0)
    except SystemExit as exc:
        codes.append(exc.code or 0)
print(json.dumps({
    "codes": codes,
    "loaded": sorted(m for m in ("pandas", "pyarrow", "numpy") if m in sys.modules),
    "allocator": os.environ.get("_RJEM_MALLOC_CONF"),
}))
"""


def run_chapar(*commands: list[str]) -> dict[str, Any]:
    """Run the commands in one child ``chapar`` process (the test's store: its environment)."""
    done = subprocess.run([sys.executable, "-c", CHILD, json.dumps(commands)],
                          capture_output=True, text=True, timeout=120, check=True)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def people(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "people.csv"
    lines = ["Mobile;Name"] + [f"0912{1_000_000 + i:07d};name {i}" for i in range(rows)]
    path.write_text("\n".join([*lines, "bad;x", "09121000000;again"]) + "\n", encoding="utf-8")
    return path


def test_preview_import_and_price_load_neither_pandas_nor_pyarrow(tmp_path: Path) -> None:
    path = people(tmp_path, 50)
    blacklist = tmp_path / "blacklist.txt"
    blacklist.write_text("09121000001\n09121000002\n", encoding="utf-8")
    child = run_chapar(
        ["blacklist", "import", str(blacklist)],
        ["lists", "preview", str(path)],
        ["lists", "import", "people", str(path)],
        ["lists", "import", "O'Brien's list; -- not SQL", str(path)],
        ["lists", "import", "people", str(path), "--replace"],
        ["price", "--message", "سلام", "--list", "people", "--json"],  # the dry run too
    )
    assert child["codes"] == [0, 0, 0, 0, 0, 0]
    assert child["loaded"] == []
    assert child["allocator"].endswith(",dirty_decay_ms:0,muzzy_decay_ms:0")  # the last wins
    for name in ("people", "O'Brien's list; -- not SQL"):
        info = next(i for i in repo.lists() if i.name == name)
        assert (info.total_rows, info.valid, info.invalid, info.duplicates) == (52, 50, 1, 1)
        assert (info.columns, info.number_column, info.source_file) == (["Name"], "Mobile",
                                                                         "people.csv")  # fmt: skip
    assert repo.blacklist_size() == 2


def test_a_streamed_import_loads_neither_and_stores_the_same_rows(tmp_path: Path) -> None:
    """A file above the held size is staged in Parquet and counted by DuckDB: the other way
    through the store, in a child whose limit is lowered to take it."""
    path = people(tmp_path, 200)
    child_code = CHILD.replace(
        "from chapar.cli import main",
        "from chapar.cli import main\nfrom chapar.store import repo\nrepo.HELD_FILE_BYTES = 0",
    )
    done = subprocess.run(
        [sys.executable, "-c", child_code, json.dumps([["lists", "import", "big", str(path)]])],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    child = json.loads(done.stdout.strip().splitlines()[-1])
    assert child["codes"] == [0]
    assert child["loaded"] == []
    repo.import_list("held", path)  # in this process: held, as before
    with connect() as con:
        stored = {
            name: con.execute(
                "SELECT line_no, number, operator, raw, attrs FROM recipients r JOIN lists l "
                "ON l.id = r.list_id WHERE l.name = ? ORDER BY line_no", [name]
            ).fetchall()
            for name in ("big", "held")
        }  # fmt: skip
    assert len(stored["big"]) == 202
    assert stored["big"] == stored["held"]


def test_a_value_with_a_control_character_is_still_bound_as_a_parameter(tmp_path: Path
                                                                        ) -> None:  # fmt: skip
    assert repo._literal("O'Brien") == "'O''Brien'"
    assert repo._literal(["a", "b'c"]) == "['a', 'b''c']::VARCHAR[]"
    assert repo._literal([]) == "[]::VARCHAR[]"
    assert repo._literal(None) == "NULL"
    assert repo._literal(7) == "7"
    assert repo._literal(True) == "true"
    assert repo._literal([3, 1]) == "[3, 1]"
    when = datetime(2026, 12, 2, 3, 4, 5, tzinfo=UTC)
    assert repo._literal(when) == "'2026-12-02T03:04:05+00:00'::TIMESTAMPTZ"
    assert repo._literal("two\nlines") is None
    assert repo._literal(["x", "tab\there"]) is None
    assert repo._literal(1.5) is None
    result = repo.import_list("tab\there", people(tmp_path, 3))
    assert (result.name, result.valid) == ("tab\there", 3)
    assert "tab\there" in [i.name for i in repo.lists()]
