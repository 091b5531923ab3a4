-- ClinicBox schema version 2: indexes for the KPI report.
-- The report reads the callbacks of a period by requested_at. Without this
-- index it scans the whole callbacks table, which on a 500,000-call store
-- also pushes the period's call pages out of SQLCipher's page cache.
CREATE INDEX callbacks_requested ON callbacks(requested_at);
