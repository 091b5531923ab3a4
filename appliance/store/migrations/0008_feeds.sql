-- ClinicBox schema version 7: appointments from the clinic's own system (HL7 feeds).
--
-- An appointment that came from a feed keeps the feed's name (the sender,
-- MSH-3@MSH-4) and the source's own IDs (SCH-1 placer, SCH-2 filler), so a
-- message that names either finds it again: a replay, a re-sent S12, an
-- S14 before its S12 leave one appointment.
ALTER TABLE appointments ADD COLUMN feed TEXT;
ALTER TABLE appointments ADD COLUMN placer_id TEXT;
ALTER TABLE appointments ADD COLUMN filler_id TEXT;
CREATE INDEX appointments_feed_placer ON appointments(feed, placer_id) WHERE placer_id IS NOT NULL;
CREATE INDEX appointments_feed_filler ON appointments(feed, filler_id) WHERE filler_id IS NOT NULL;

-- Every message a feed received: the control-ID ledger that makes replays
-- idempotent, the rejected and held ones with their reason (for the status
-- page and re-processing), and what each one changed. The raw message stays
-- in the encrypted store only; logs never see it.
CREATE TABLE feed_messages (
    id              INTEGER PRIMARY KEY,
    feed            TEXT NOT NULL,                 -- sender: MSH-3@MSH-4
    control_id      TEXT NOT NULL,                 -- MSH-10
    received_at     TEXT NOT NULL,
    message_type    TEXT NOT NULL DEFAULT '',      -- SIU^S12
    status          TEXT NOT NULL
        CHECK (status IN ('applied', 'unchanged', 'held', 'rejected', 'ignored')),
    ack_code        TEXT NOT NULL CHECK (ack_code IN ('AA', 'AE', 'AR')),
    reason          TEXT NOT NULL DEFAULT '',      -- no patient data
    location        TEXT NOT NULL DEFAULT '',      -- the field at fault (SCH-11.4)
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE SET NULL,
    raw             TEXT NOT NULL,
    replays         INTEGER NOT NULL DEFAULT 0,
    UNIQUE (feed, control_id)
);
CREATE INDEX feed_messages_received ON feed_messages(received_at);
CREATE INDEX feed_messages_status ON feed_messages(status, received_at);

-- The front desk's worklist: what the box changed that the source system
-- cannot learn from it ("cancel this visit in your system"), until ticked done.
CREATE TABLE worklist (
    id              INTEGER PRIMARY KEY,
    created_at      TEXT NOT NULL,
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE CASCADE,
    action          TEXT NOT NULL,                 -- cancel, confirm, no-show, attended, reschedule
    feed            TEXT NOT NULL DEFAULT '',
    detail          TEXT NOT NULL DEFAULT '',
    done_at         TEXT,
    done_by         TEXT
);
CREATE INDEX worklist_open ON worklist(done_at, created_at);
