-- Version 7: suppressed_on reads the blacklist with NOT EXISTS: NOT IN hashed the whole
-- blacklist at every use, even with no opt-out to check (0.08 s → 0.003 s at 1M numbers,
-- at every price and every plan).
CREATE OR REPLACE MACRO suppressed_on(line) AS TABLE
SELECT number, 'blacklisted' AS status FROM blacklist
UNION ALL
SELECT number, status FROM (
    SELECT number, CASE arg_max(kind, (recorded_at, id))
                       WHEN 'opted_out' THEN 'opted_out' WHEN 'manual' THEN 'suppressed' END
                   AS status
    FROM suppressions
    WHERE kind IN ('opted_out', 'manual', 'opted_in')
      AND (scope = 'everywhere' OR scope = 'line:' || line)
    GROUP BY number
) consent
WHERE status IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM blacklist b WHERE b.number = consent.number);
