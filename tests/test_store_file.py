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


def test_a_sending_transaction_works_on_one_thread_and_gives_the_cores_back() -> None:
    from chapar.store import one_thread

    def threads(con) -> int:  # type: ignore[no-untyped-def]
        return int(con.execute("SELECT current_setting('threads')").fetchone()[0])

    with connect() as reader:  # a page's read, open in the same process all along
        before = threads(reader)
        with transaction() as con, one_thread(con):
            assert threads(con) == 1
        assert threads(reader) == before
