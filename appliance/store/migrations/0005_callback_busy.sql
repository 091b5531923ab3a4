-- ClinicBox schema version 5: callers who got busy go on the callback list.
--
-- When every line of the box is in use, a caller hears busy. That is a missed
-- call like any other, so it is kept as a callback with source 'busy'. SQLite
-- cannot change a CHECK constraint in place: the table is rebuilt with the
-- same columns and rows, and its indexes are made again. Nothing references
-- callbacks, so the rebuild touches no other table.
CREATE TABLE callbacks_v5 (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE SET NULL,
    queue           TEXT NOT NULL,
    source          TEXT NOT NULL
        CHECK (source IN ('abandoned', 'requested', 'after-hours', 'overflow', 'voicemail', 'busy')),
    call_id         INTEGER REFERENCES calls(id) ON DELETE SET NULL,
    requested_at    TEXT NOT NULL,
    place_at        TEXT NOT NULL,                 -- keeps the caller's place in the queue
    waited_seconds  REAL NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'dialing', 'done', 'failed', 'cancelled')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    completed_at    TEXT,
    outcome         TEXT NOT NULL DEFAULT '',
    handled_by      TEXT,
    callback_call_id INTEGER REFERENCES calls(id) ON DELETE SET NULL
);
INSERT INTO callbacks_v5 (id, number, patient_id, queue, source, call_id, requested_at, place_at, waited_seconds,
                          status, attempts, last_attempt_at, completed_at, outcome, handled_by, callback_call_id)
    SELECT id, number, patient_id, queue, source, call_id, requested_at, place_at, waited_seconds,
           status, attempts, last_attempt_at, completed_at, outcome, handled_by, callback_call_id
    FROM callbacks;
DROP TABLE callbacks;
ALTER TABLE callbacks_v5 RENAME TO callbacks;
CREATE UNIQUE INDEX callbacks_one_open ON callbacks(number) WHERE status IN ('open', 'dialing');
CREATE INDEX callbacks_status ON callbacks(status, place_at);
CREATE INDEX callbacks_requested ON callbacks(requested_at);
