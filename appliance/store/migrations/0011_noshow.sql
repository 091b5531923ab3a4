-- ClinicBox schema version 11: the no-show follow-up.
--
-- A visit marked as a no-show (web UI, or an HL7 SIU S26) gets at most one
-- follow-up offering to rebook: the UNIQUE appointment makes marking twice, a
-- replayed S26 or a no-show -> booked -> no-show flip plan it once. The row is
-- written in the transaction that set the status and is the only truth the
-- reminder dispatcher works from: planned -> sending/dialing (committed before
-- the SMS is queued or the call placed, so a restart never sends twice) ->
-- sent (the SMS is in the modem's queue, or the call was answered) or
-- skipped/failed (detail says why: opted-out, landline, cap-day, no-phone,
-- visit-not-over, stale, ...). The patient's answer (an SMS reply, or a key on
-- the call) goes to the front desk's worklist; answered_at is the first one.
CREATE TABLE followups (
    id              INTEGER PRIMARY KEY,
    appointment_id  INTEGER NOT NULL UNIQUE REFERENCES appointments(id) ON DELETE CASCADE,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    marked_at       TEXT NOT NULL,
    marked_by       TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'planned'
        CHECK (state IN ('planned', 'sending', 'dialing', 'sent', 'skipped', 'failed')),
    channel         TEXT CHECK (channel IN ('sms', 'voice')),
    number          TEXT NOT NULL DEFAULT '',
    language        TEXT,
    detail          TEXT NOT NULL DEFAULT '',
    sms_id          INTEGER REFERENCES sms_messages(id) ON DELETE SET NULL,
    call_uuid       TEXT,
    trace_id        INTEGER REFERENCES contact_log(id) ON DELETE SET NULL,
    sent_at         TEXT,
    answered_at     TEXT,
    answer          TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL
);
CREATE INDEX followups_state ON followups(state, marked_at);
CREATE INDEX followups_number ON followups(number, sent_at);
