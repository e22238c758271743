-- name: list_by_name
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists WHERE name = $name;

-- name: lists_all
SELECT id, name, source_file, created_at, total_rows, valid, invalid, duplicates,
       coalesce(columns, []::VARCHAR[]) AS columns, number_column, source_sheet
FROM lists ORDER BY name;

-- name: list_attributes
-- $attributes is replaced by `, attrs[1] AS "name", …` from lists.columns (see repo).
SELECT line_no, number $attributes FROM recipients WHERE list_id = $list_id ORDER BY line_no;

-- name: list_insert
INSERT INTO lists (name, source_file, total_rows, valid, invalid, duplicates)
VALUES ($name, $source_file, 0, 0, 0, 0)
RETURNING id;

-- name: list_update_counts
UPDATE lists SET source_file = $source_file, total_rows = $total_rows, valid = $valid,
    invalid = $invalid, duplicates = $duplicates, created_at = now(), columns = $columns,
    number_column = $number_column, source_sheet = $source_sheet
WHERE id = $id;

-- name: list_clear_rows
-- Replacing a list's rows changes only future runs: planned runs froze their audience
-- into messages.
DELETE FROM recipients WHERE list_id = $id;

-- name: staging_view
-- An import's rows, read and classified into temporary Parquet files (see repo._staged);
-- the raw text is kept only where the number is invalid.
CREATE OR REPLACE TEMP VIEW staging_rows AS SELECT * FROM read_parquet($files);

-- name: staging_counts
-- Rows, rows with a valid number, distinct valid numbers, and distinct valid numbers
-- already on the blacklist.
SELECT count(*) AS total, count(number) AS numbers, count(DISTINCT number) AS valid,
       (SELECT count(DISTINCT s.number) FROM staging_rows s SEMI JOIN blacklist b
          ON s.number = b.number) AS blacklisted
FROM staging_rows;

-- name: staging_invalid_sample
SELECT line_no, coalesce(raw, '') AS raw FROM staging_rows WHERE number IS NULL
ORDER BY line_no LIMIT $limit;

-- name: recipients_insert
-- The staged file, in line order, becomes the list's rows.
INSERT INTO recipients (list_id, line_no, number, operator, raw, attrs)
SELECT $list_id, line_no, number, operator, raw, attrs FROM staging_rows;

-- name: recipients_insert_plain
-- The same for a file with no column besides the numbers (no attrs staged).
INSERT INTO recipients (list_id, line_no, number, operator, raw)
SELECT $list_id, line_no, number, operator, raw FROM staging_rows;

-- name: blacklist_insert_staged
-- A number already on the blacklist keeps its first source.
INSERT INTO blacklist (number, source, campaign_id)
SELECT DISTINCT number, $source, NULL FROM staging_rows WHERE number IS NOT NULL
ON CONFLICT (number) DO NOTHING;

-- name: blacklist_count
SELECT count(*) FROM blacklist;

-- name: blacklist_lookup
SELECT number, source, campaign_id, added_at FROM blacklist WHERE number = $number;

-- name: audience_price
-- What a campaign over these lists would send: valid, first occurrence across the lists
-- in order, not blacklisted; and how many each filter removed.
WITH src AS (
    SELECT r.number, r.operator,
           row_number() OVER (PARTITION BY r.number ORDER BY p.position, r.line_no) AS nth
    FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                                   generate_subscripts($list_ids, 1) AS position) p
      ON p.list_id = r.list_id
)
SELECT
    count(*) FILTER (WHERE number IS NULL)                            AS invalid,
    count(*) FILTER (WHERE number IS NOT NULL AND nth > 1)            AS duplicates,
    count(*) FILTER (WHERE number IS NOT NULL AND nth = 1
                     AND number IN (SELECT number FROM blacklist))     AS blacklisted,
    count(*) FILTER (WHERE number IS NOT NULL AND nth = 1
                     AND number NOT IN (SELECT number FROM blacklist)) AS recipients
FROM src;

-- name: audience_by_operator
WITH src AS (
    SELECT r.number, r.operator,
           row_number() OVER (PARTITION BY r.number ORDER BY p.position, r.line_no) AS nth
    FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                                   generate_subscripts($list_ids, 1) AS position) p
      ON p.list_id = r.list_id
)
SELECT operator, count(*) AS n FROM src
WHERE number IS NOT NULL AND nth = 1 AND number NOT IN (SELECT number FROM blacklist)
GROUP BY operator ORDER BY operator;

-- name: audience_first
-- The audience of a campaign with a send count, taken the way planning takes it
-- (runs.sql plan_messages): rows in list order then line order, the first N recipients and
-- the filtered rows met before the N-th. One line per (status, operator).
WITH src AS (
    SELECT r.number, r.operator,
           row_number() OVER (ORDER BY p.position, r.line_no) AS seq
    FROM recipients r JOIN (SELECT unnest($list_ids) AS list_id,
                                   generate_subscripts($list_ids, 1) AS position) p
      ON p.list_id = r.list_id
), classified AS (
    SELECT *, CASE
        WHEN number IS NULL THEN 'invalid'
        WHEN row_number() OVER (PARTITION BY number ORDER BY seq) > 1 THEN 'duplicate'
        WHEN number IN (SELECT number FROM blacklist) THEN 'blacklisted'
        ELSE 'pending' END AS status
    FROM src
), ranked AS (
    SELECT *, sum((status = 'pending')::INTEGER) OVER (ORDER BY seq ROWS UNBOUNDED PRECEDING)
              AS sendable_rank
    FROM classified
)
SELECT status, operator, count(*) AS n FROM ranked
WHERE sendable_rank - (status = 'pending')::INTEGER < $send_count
GROUP BY ALL ORDER BY ALL;
