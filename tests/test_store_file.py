"""The embedded DuckDB file as many threads of one process use it (the dashboard's page
threads beside a send started from it)."""

from __future__ import annotations

import threading

from chapar.store import connect, transaction


def test_threads_opening_and_closing_the_file_at_once_never_collide() -> None:
    # DuckDB 1.5 alone fails about one open in a hundred here with "Unique file handle
    # conflict" (duckdb-python#392); the store takes turns to open and close.
    with transaction() as con:
        con.execute("CREATE TABLE IF NOT EXISTS probe (n INTEGER)")
    failures: list[BaseException] = []

    def work() -> None:
        for n in range(150):
            try:
                with connect() as con:
                    con.execute("SELECT count(*) FROM probe").fetchall()
                if n % 10 == 0:
                    with transaction() as con:
                        con.execute("INSERT INTO probe VALUES (?)", [n])
            except BaseException as exc:
                failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with connect() as con:
        assert con.execute("SELECT count(*) FROM probe").fetchone() == (60,)
