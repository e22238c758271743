-- name: campaign_insert
INSERT INTO campaigns (title, message, sender, send_count, start_at, status)
VALUES ($title, $message, $sender, $send_count, $start_at, $status)
RETURNING id;

-- name: campaign_list_insert
INSERT INTO campaign_lists (campaign_id, position, list_id) VALUES ($campaign_id, $position, $list_id);

-- name: campaign_lists_clear
DELETE FROM campaign_lists WHERE campaign_id = $campaign_id;

-- name: campaigns_select
-- The campaign rows with their source list names and whether a live lease holds the
-- current run (a lapsed lease means the sending process died).
SELECT c.id, c.title, c.message, c.sender, c.send_count, c.start_at, c.status,
       c.status_reason, c.status_details, c.archived, c.reset_count, c.current_run, c.created_at, c.updated_at,
       coalesce((SELECT list(l.name ORDER BY cl.position) FROM campaign_lists cl
                 JOIN lists l ON l.id = cl.list_id WHERE cl.campaign_id = c.id), []) AS source,
       r.lease_owner, r.lease_expires, coalesce(c.defer_capped, false) AS defer_capped
FROM campaigns c
LEFT JOIN runs r ON r.campaign_id = c.id AND r.run_no = c.current_run
WHERE ($id IS NULL OR c.id = $id) AND ($archived IS NULL OR c.archived = $archived)
ORDER BY c.id DESC;

-- name: campaign_set
UPDATE campaigns SET title = $title, message = $message, send_count = $send_count,
    start_at = $start_at, updated_at = now()
WHERE id = $id;

-- name: campaign_set_status
UPDATE campaigns SET status = $status, status_reason = $reason, status_details = $details,
    updated_at = now()
WHERE id = $id;

-- name: campaign_set_archived
UPDATE campaigns SET archived = $archived, updated_at = now() WHERE id = $id;

-- name: audit_insert
INSERT INTO audit (actor, campaign_id, action, field, old_value, new_value)
VALUES ($actor, $campaign_id, $action, $field, $old_value, $new_value);

-- name: audit_for
SELECT id, recorded_at AS "at", actor, campaign_id, action, field, old_value, new_value
FROM audit WHERE campaign_id = $campaign_id ORDER BY id DESC;

-- name: campaign_set_flow_run
UPDATE campaigns SET scheduled_flow_run = $flow_run WHERE id = $id;

-- name: campaign_flow_run
SELECT scheduled_flow_run FROM campaigns WHERE id = $id;

-- name: campaign_set_defer_capped
UPDATE campaigns SET defer_capped = $defer, updated_at = now() WHERE id = $id;
