-- Version 5 (issue 12): where each planned message came from, so a personalised text is
-- rendered from its recipient's values when its batch goes in flight.
ALTER TABLE messages ADD COLUMN list_id INTEGER;
ALTER TABLE messages ADD COLUMN line_no INTEGER;
