-- name: inbox_lines
-- The lines whose replies are read: those that sent a campaign, or carry an opt-out footer.
SELECT sender FROM campaigns WHERE current_run > 0
UNION
SELECT sender FROM lines WHERE footer IS NOT NULL
ORDER BY 1;

-- name: inbox_fresh
-- Replies not kept before, each with the latest campaign on its line that messaged it.
SELECT i.*,
       (SELECT arg_max(m.campaign_id, m.sent_at) FROM messages m
        JOIN campaigns c ON c.id = m.campaign_id
        WHERE c.sender = i.line AND m.number = i.number AND m.sent_at IS NOT NULL)
       AS campaign_id
FROM incoming i
WHERE i.provider_id NOT IN (SELECT provider_id FROM inbox)
ORDER BY i.received_at, i.provider_id;

-- name: inbox_insert
INSERT INTO inbox (provider_id, number, sender, line, text, kind, campaign_id, received_at)
SELECT provider_id, number, sender, line, text, kind, campaign_id, received_at FROM fresh;

-- name: suppressions_from_replies
-- An opt-out or opt-in reply is a row of the ledger, scoped to the line it answered.
INSERT INTO suppressions (number, kind, scope, source, campaign_id, recorded_at)
SELECT number, CASE kind WHEN 'opt_out' THEN 'opted_out' ELSE 'opted_in' END,
       'line:' || line, 'reply:' || provider_id, campaign_id, received_at
FROM fresh
WHERE kind IN ('opt_out', 'opt_in') AND number IS NOT NULL
ORDER BY received_at, provider_id;

-- name: inbox_counts
SELECT kind, count(*) FROM inbox WHERE campaign_id = $campaign_id GROUP BY kind;

-- name: inbox_latest
SELECT number, text, line, received_at FROM inbox
WHERE campaign_id = $campaign_id AND kind = 'other'
ORDER BY received_at DESC LIMIT $limit;

-- name: inbox_recent
SELECT provider_id, number, line, text, kind, campaign_id, received_at FROM inbox
WHERE ($kind IS NULL OR kind = $kind)
ORDER BY received_at DESC, provider_id DESC LIMIT $limit;
