-- Version 7 on PostgreSQL: nothing to do here; suppressed_on is a DuckDB macro that the store
-- defines in each process's memory (chapar/store/__init__.py, SUPPRESSED_ON).
SELECT 1;
