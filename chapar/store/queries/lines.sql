-- name: line_get
SELECT sender, send_window, rate_per_minute, footer, cap_messages, cap_days
FROM lines WHERE sender = $sender;

-- name: line_put
INSERT INTO lines (sender, send_window, rate_per_minute, footer, cap_messages, cap_days)
VALUES ($sender, $send_window, $rate, $footer, $cap_messages, $cap_days)
ON CONFLICT (sender) DO UPDATE SET send_window = excluded.send_window,
    rate_per_minute = excluded.rate_per_minute, footer = excluded.footer,
    cap_messages = excluded.cap_messages, cap_days = excluded.cap_days;

-- name: lines_all
SELECT sender, send_window, rate_per_minute, footer, cap_messages, cap_days
FROM lines ORDER BY sender;
