-- name: line_get
SELECT sender, send_window, rate_per_minute FROM lines WHERE sender = $sender;

-- name: line_put
INSERT INTO lines (sender, send_window, rate_per_minute) VALUES ($sender, $send_window, $rate)
ON CONFLICT (sender) DO UPDATE SET send_window = excluded.send_window,
    rate_per_minute = excluded.rate_per_minute;

-- name: lines_all
SELECT sender, send_window, rate_per_minute FROM lines ORDER BY sender;
