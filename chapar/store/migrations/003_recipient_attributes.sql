-- Recipient attributes: the other columns of a list file (name, city, …), kept per row for
-- personalised texts ({نام}). A list names its attribute columns once, in order
-- (lists.columns); each recipient holds the values in that order (recipients.attrs), so
-- reading {name} for a million rows is one list_extract(attrs, i) with i found once per list
-- — no per-row keys to store or JSON to parse. NULL attrs: the file had no other column.
ALTER TABLE lists ADD COLUMN columns VARCHAR[];
ALTER TABLE lists ADD COLUMN number_column VARCHAR;  -- the header of the number column
ALTER TABLE lists ADD COLUMN source_sheet VARCHAR;   -- the sheet read from a workbook
ALTER TABLE recipients ADD COLUMN attrs VARCHAR[];
