-- ClinicBox schema version 8: reserved for the feeds branch (i19-feeds), which
-- ships its own 0008 at merge; this empty step only keeps the sequence whole on
-- the text-back branch (i20-textback, whose schema is 0009). Delete it at merge.
SELECT 1;
