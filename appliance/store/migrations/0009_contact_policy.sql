-- ClinicBox schema version 9: one contact policy for every message a patient gets.
--
-- contact_log is the message trace: one row per message the box meant to send
-- (a reminder SMS, a missed-call text-back, an acknowledgement), saying what
-- happened: queued, sent, delivered, skipped (reason: cap-day, cap-week,
-- quiet-hours, opted-out, landline, withheld, short-code, emergency, recent,
-- stale) or failed. The caps count its queued/sent/delivered rows. A missed
-- call gets at most one text-back decision (the unique index), so a restart
-- or a second scan never texts a caller twice.
--
-- consent_events records consent per patient, or per number for callers the
-- box does not know: when, how (sms, web, import, phone) and by whom. The
-- latest event for a number is its state (STOP, then START, opts in again).
CREATE TABLE contact_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    kind            TEXT NOT NULL,      -- reminder, textback, ack, stop-confirm, start-confirm, help
    number          TEXT NOT NULL DEFAULT '',
    patient_id      INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
    call_id         INTEGER REFERENCES calls(id) ON DELETE SET NULL,
    outcome         TEXT NOT NULL CHECK (outcome IN ('waiting', 'queued', 'sent', 'delivered', 'skipped', 'failed')),
    reason          TEXT NOT NULL DEFAULT '',
    language        TEXT,
    sms_id          INTEGER REFERENCES sms_messages(id) ON DELETE SET NULL,
    counted         INTEGER NOT NULL DEFAULT 1 CHECK (counted IN (0, 1)),
    updated_at      TEXT
);
CREATE INDEX contact_log_number ON contact_log(number, at);
CREATE INDEX contact_log_patient ON contact_log(patient_id, at);
CREATE INDEX contact_log_appointment ON contact_log(appointment_id);
CREATE INDEX contact_log_sms ON contact_log(sms_id);
CREATE UNIQUE INDEX contact_log_one_textback ON contact_log(call_id) WHERE kind = 'textback';
CREATE INDEX contact_log_waiting ON contact_log(call_id) WHERE outcome = 'waiting';

CREATE TABLE consent_events (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    number      TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL CHECK (action IN ('opt-in', 'opt-out')),
    via         TEXT NOT NULL,          -- sms, web, import, phone
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX consent_events_patient ON consent_events(patient_id, at);
CREATE INDEX consent_events_number ON consent_events(number, at);

-- A missed caller who answered the text-back with "yes": when they said so
-- (the callback list shows "asked by SMS"; the entry keeps the call's time).
ALTER TABLE callbacks ADD COLUMN sms_yes_at TEXT;
