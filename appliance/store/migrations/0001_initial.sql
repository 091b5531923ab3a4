-- ClinicBox schema version 1. Times are UTC ISO-8601 text ('2026-03-02T09:00:00Z')
-- unless named *_local. Phone numbers are E.164 where a patient's, raw otherwise.

CREATE TABLE patients (
    id              INTEGER PRIMARY KEY,
    import_key      TEXT NOT NULL UNIQUE,          -- external id, or hash of name+birth date
    external_id     TEXT,                          -- the clinic's own patient number
    family_name     TEXT NOT NULL DEFAULT '',
    given_name      TEXT NOT NULL DEFAULT '',
    display_name    TEXT NOT NULL,
    name_search     TEXT NOT NULL,                 -- folded for search (case, accents, ı/ł)
    date_of_birth   TEXT,                          -- YYYY-MM-DD
    language        TEXT NOT NULL DEFAULT 'en',
    reminder_channel TEXT NOT NULL DEFAULT 'sms'
        CHECK (reminder_channel IN ('voice', 'sms', 'both', 'none')),
    consent_reminders INTEGER NOT NULL DEFAULT 1 CHECK (consent_reminders IN (0, 1)),
    consent_recording INTEGER NOT NULL DEFAULT 1 CHECK (consent_recording IN (0, 1)),
    opted_out_at    TEXT,                          -- patient asked for no reminders
    notes           TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX patients_dob ON patients(date_of_birth);

CREATE VIRTUAL TABLE patients_fts USING fts5(
    name_search, content='patients', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER patients_fts_ai AFTER INSERT ON patients BEGIN
    INSERT INTO patients_fts(rowid, name_search) VALUES (new.id, new.name_search);
END;
CREATE TRIGGER patients_fts_ad AFTER DELETE ON patients BEGIN
    INSERT INTO patients_fts(patients_fts, rowid, name_search) VALUES ('delete', old.id, old.name_search);
END;
CREATE TRIGGER patients_fts_au AFTER UPDATE OF name_search ON patients BEGIN
    INSERT INTO patients_fts(patients_fts, rowid, name_search) VALUES ('delete', old.id, old.name_search);
    INSERT INTO patients_fts(rowid, name_search) VALUES (new.id, new.name_search);
END;

CREATE TABLE patient_phones (
    id          INTEGER PRIMARY KEY,
    patient_id  INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    e164        TEXT NOT NULL,
    kind        TEXT NOT NULL DEFAULT 'mobile' CHECK (kind IN ('mobile', 'home', 'work', 'other')),
    is_primary  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (patient_id, e164)
);
CREATE INDEX patient_phones_e164 ON patient_phones(e164);

CREATE TABLE appointments (
    id          INTEGER PRIMARY KEY,
    import_key  TEXT NOT NULL UNIQUE,
    external_id TEXT,
    patient_id  INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    provider    TEXT NOT NULL DEFAULT '',
    location    TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',          -- sensitive: never spoken or sent by SMS
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'booked'
        CHECK (status IN ('booked', 'confirmed', 'cancelled', 'no-show', 'attended')),
    source      TEXT NOT NULL DEFAULT 'ui',        -- ui, csv, ics, reminder
    status_changed_at TEXT,
    status_changed_by TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
-- Covers the screen pop's "next visit" (no row fetch) and a patient's history.
CREATE INDEX appointments_patient ON appointments(patient_id, starts_at, status, provider, location);
CREATE INDEX appointments_start ON appointments(starts_at);

-- Call detail records: one row per call leg the box handled.
CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    uuid            TEXT NOT NULL UNIQUE,
    direction       TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    purpose         TEXT NOT NULL DEFAULT 'patient'
        CHECK (purpose IN ('patient', 'callback', 'reminder', 'transfer', 'internal')),
    route           TEXT NOT NULL DEFAULT 'trunk' CHECK (route IN ('trunk', 'gsm', 'local')),
    caller          TEXT NOT NULL DEFAULT '',
    callee          TEXT NOT NULL DEFAULT '',
    patient_id      INTEGER REFERENCES patients(id) ON DELETE SET NULL,
    language        TEXT,
    started_at      TEXT NOT NULL,                 -- INVITE received / placed
    answered_at     TEXT,                          -- answered by the box or the far end
    queue           TEXT,
    queued_at       TEXT,
    agent           TEXT,                          -- station id that talked
    agent_answered_at TEXT,
    ended_at        TEXT,
    disposition     TEXT,                          -- answered, abandoned, voicemail, callback,
                                                   -- overflow, ivr, transferred, busy, failed, refused
    ivr_path        TEXT NOT NULL DEFAULT '[]',    -- JSON list of node names and keys
    hold_seconds    REAL NOT NULL DEFAULT 0,
    wrap_seconds    REAL NOT NULL DEFAULT 0,
    hangup_by       TEXT,                          -- caller, agent, box, timeout
    sip_code        INTEGER,
    note            TEXT NOT NULL DEFAULT '',      -- agent's wrap-up note
    reminder_attempt_id INTEGER,
    callback_id     INTEGER
);
CREATE INDEX calls_started ON calls(started_at);
-- Covering indexes for the screen pop's "last contacts" (no row fetch needed).
CREATE INDEX calls_caller ON calls(caller, started_at, direction, purpose, disposition);
CREATE INDEX calls_patient ON calls(patient_id, started_at, direction, purpose, disposition);

CREATE TABLE queue_events (
    id       INTEGER PRIMARY KEY,
    call_id  INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    queue    TEXT NOT NULL,
    event    TEXT NOT NULL,   -- enter, ring, ring-timeout, answer, hold, unhold, transfer,
                              -- abandon, callback-request, overflow, leave, position
    agent    TEXT,
    data     TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX queue_events_call ON queue_events(call_id);
CREATE INDEX queue_events_at ON queue_events(at);

-- Agent state changes, for schedule adherence and occupancy.
CREATE TABLE agent_events (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    agent   TEXT NOT NULL,
    state   TEXT NOT NULL,    -- logged-out, available, paused, ringing, on-call, wrap-up, unavailable
    reason  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX agent_events_agent ON agent_events(agent, at);

-- Missed callers and "call me back" requests. At most one open entry per number.
CREATE TABLE callbacks (
    id              INTEGER PRIMARY KEY,
    number          TEXT NOT NULL,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE SET NULL,
    queue           TEXT NOT NULL,
    source          TEXT NOT NULL CHECK (source IN ('abandoned', 'requested', 'after-hours', 'overflow', 'voicemail')),
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
CREATE UNIQUE INDEX callbacks_one_open ON callbacks(number) WHERE status IN ('open', 'dialing');
CREATE INDEX callbacks_status ON callbacks(status, place_at);

CREATE TABLE voicemail (
    id          INTEGER PRIMARY KEY,
    mailbox     TEXT NOT NULL,
    call_id     INTEGER REFERENCES calls(id) ON DELETE SET NULL,
    caller      TEXT NOT NULL DEFAULT '',
    patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    received_at TEXT NOT NULL,
    duration_s  REAL NOT NULL,
    media_file  TEXT NOT NULL,                     -- encrypted file, relative to media_dir
    language    TEXT,
    status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'handled')),
    handled_by  TEXT,
    handled_at  TEXT
);
CREATE INDEX voicemail_status ON voicemail(status, received_at);

CREATE TABLE recordings (
    id          INTEGER PRIMARY KEY,
    call_id     INTEGER REFERENCES calls(id) ON DELETE SET NULL,
    patient_id  INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    queue       TEXT,
    agent       TEXT,
    started_at  TEXT NOT NULL,
    duration_s  REAL NOT NULL DEFAULT 0,
    media_file  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX recordings_started ON recordings(started_at);

-- Reminders: one row per (appointment, offset, channel); attempts are the history.
CREATE TABLE reminders (
    id              INTEGER PRIMARY KEY,
    appointment_id  INTEGER NOT NULL REFERENCES appointments(id) ON DELETE CASCADE,
    offset_minutes  INTEGER NOT NULL,
    channel         TEXT NOT NULL CHECK (channel IN ('voice', 'sms')),
    due_at          TEXT NOT NULL,
    expires_at      TEXT NOT NULL,                 -- after this the reminder is pointless
    status          TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'active', 'done', 'cancelled', 'expired', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    outcome         TEXT NOT NULL DEFAULT '',
    updated_at      TEXT NOT NULL,
    UNIQUE (appointment_id, offset_minutes, channel)
);
CREATE INDEX reminders_due ON reminders(status, next_attempt_at);

CREATE TABLE reminder_attempts (
    id          INTEGER PRIMARY KEY,
    reminder_id INTEGER NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
    channel     TEXT NOT NULL CHECK (channel IN ('voice', 'sms')),
    route       TEXT NOT NULL CHECK (route IN ('trunk', 'gsm')),
    state       TEXT NOT NULL DEFAULT 'dialing'
        CHECK (state IN ('dialing', 'sending', 'in-progress', 'finished')),
    outcome     TEXT NOT NULL DEFAULT '',
                -- confirmed, cancelled, desk, no-answer, busy, voicemail, failed,
                -- opted-out, sent, delivered, unclear-reply, interrupted
    started_at  TEXT NOT NULL,
    ended_at    TEXT,
    call_uuid   TEXT,
    sms_id      INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reminder_attempts_reminder ON reminder_attempts(reminder_id);
CREATE INDEX reminder_attempts_started ON reminder_attempts(started_at);

-- SMS through the GSM modem, both directions.
CREATE TABLE sms_messages (
    id              INTEGER PRIMARY KEY,
    direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    number          TEXT NOT NULL,
    patient_id      INTEGER REFERENCES patients(id) ON DELETE CASCADE,
    body            TEXT NOT NULL,
    parts           INTEGER NOT NULL DEFAULT 1,
    encoding        TEXT,                           -- gsm7 or ucs2
    status          TEXT NOT NULL,
        -- out: queued, sending, sent, delivered, failed; in: received, partial
    modem_refs      TEXT NOT NULL DEFAULT '[]',     -- +CMGS message references, JSON
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT,
    delivered_at    TEXT,
    error           TEXT NOT NULL DEFAULT '',
    reminder_attempt_id INTEGER REFERENCES reminder_attempts(id) ON DELETE SET NULL,
    handled         INTEGER NOT NULL DEFAULT 0,
    handled_by      TEXT
);
CREATE INDEX sms_status ON sms_messages(direction, status);
CREATE INDEX sms_number ON sms_messages(number, created_at);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name    TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL CHECK (role IN ('manager', 'front-desk', 'technician')),
    password_hash   TEXT NOT NULL,
    language        TEXT NOT NULL DEFAULT 'en',
    station         TEXT,                          -- the station this user usually works at
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_login_at   TEXT
);

-- Append-only, hash-chained: each row's hash covers its content and the previous hash.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,                     -- user name, 'system', 'cli:<user>'
    action      TEXT NOT NULL,                     -- view, export, erase, play, login, ...
    object_type TEXT NOT NULL DEFAULT '',
    object_id   TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',          -- never patient data
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_at ON audit_log(at);
CREATE INDEX audit_object ON audit_log(object_type, object_id);

-- The chain's anchor: where verification starts after old rows are pruned.
CREATE TABLE audit_anchor (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    pruned_through  INTEGER NOT NULL,             -- highest id removed by retention
    anchor_hash     TEXT NOT NULL                 -- hash of that row (genesis: 64 zeros)
);
INSERT INTO audit_anchor VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
WHEN old.id > (SELECT pruned_through FROM audit_anchor) BEGIN
    SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_anchor_forward BEFORE UPDATE ON audit_anchor
WHEN new.pruned_through < old.pruned_through BEGIN
    SELECT RAISE(ABORT, 'audit anchor only moves forward');
END;

-- Runtime settings changed from the UI or CLI (night mode, paused reminders, ...).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,                     -- JSON
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL DEFAULT 'system'
);

-- Keys that live only inside the encrypted database (the media key).
CREATE TABLE vault (
    name    TEXT PRIMARY KEY,
    value   BLOB NOT NULL
);
