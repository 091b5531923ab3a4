-- ClinicBox schema version 10: the waitlist, and filling freed slots from it.
--
-- waitlist holds who wants a visit sooner: for a provider and/or a room
-- ('' = any), within a range of days and hours in the clinic's time zone,
-- or "earliest possible" (earliest = 1: any day, any hour). An entry stays
-- 'waiting' until it is booked or removed.
--
-- waitlist_slots holds each freed slot while the box fills it: 'held' (offers
-- go out), then 'filled' (one entry got it), 'unfilled' (nobody took it, or
-- it got too close to reach anyone) or 'released' (the visit was booked
-- again). A freed appointment is held once (the unique index). Booking is
-- one UPDATE ... WHERE state = 'held': of two yeses, one changes a row.
--
-- waitlist_offers holds each offer: 'offered' (an SMS went, expires_at
-- set), then 'accepted', 'declined', 'expired', 'taken' (someone else got
-- the slot first), 'skipped' (the contact policy said no: reason) or
-- 'failed' (the modem refused it). One offer per entry and slot, and at
-- most one accepted offer per slot (the second guard against a double booking).
CREATE TABLE waitlist (
    id              INTEGER PRIMARY KEY,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    provider        TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    earliest        INTEGER NOT NULL DEFAULT 1 CHECK (earliest IN (0, 1)),
    from_date       TEXT,                  -- YYYY-MM-DD, local, inclusive
    to_date         TEXT,
    weekdays        TEXT NOT NULL DEFAULT '',  -- "01234" (Monday = 0); '' = every day
    from_time       TEXT,                  -- HH:MM, local
    to_time         TEXT,
    duration_min    INTEGER NOT NULL DEFAULT 15 CHECK (duration_min BETWEEN 5 AND 480),
    note            TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'booked', 'removed')),
    via             TEXT NOT NULL DEFAULT 'web',   -- web, sms
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL
);
CREATE INDEX waitlist_waiting ON waitlist(state, created_at);
CREATE INDEX waitlist_patient ON waitlist(patient_id);

CREATE TABLE waitlist_slots (
    id              INTEGER PRIMARY KEY,
    freed_id        INTEGER REFERENCES appointments(id) ON DELETE SET NULL,
    freed_patient_id INTEGER,             -- never offered their own slot back
    provider        TEXT NOT NULL DEFAULT '',
    location        TEXT NOT NULL DEFAULT '',
    starts_at       TEXT NOT NULL,
    ends_at         TEXT NOT NULL,
    feed            TEXT NOT NULL DEFAULT '',
    freed_by        TEXT NOT NULL DEFAULT '',
    state           TEXT NOT NULL DEFAULT 'held' CHECK (state IN ('held', 'filled', 'unfilled', 'released')),
    reason          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    closed_at       TEXT,
    entry_id        INTEGER REFERENCES waitlist(id) ON DELETE SET NULL,
    appointment_id  INTEGER REFERENCES appointments(id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX waitlist_slots_one_hold ON waitlist_slots(freed_id);
CREATE INDEX waitlist_slots_state ON waitlist_slots(state, starts_at);

CREATE TABLE waitlist_offers (
    id              INTEGER PRIMARY KEY,
    slot_id         INTEGER NOT NULL REFERENCES waitlist_slots(id) ON DELETE CASCADE,
    entry_id        INTEGER NOT NULL REFERENCES waitlist(id) ON DELETE CASCADE,
    patient_id      INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
    number          TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    expires_at      TEXT,
    state           TEXT NOT NULL CHECK (state IN ('offered', 'accepted', 'declined', 'expired', 'taken', 'skipped', 'failed')),
    reason          TEXT NOT NULL DEFAULT '',
    language        TEXT,
    sms_id          INTEGER REFERENCES sms_messages(id) ON DELETE SET NULL,
    answered_at     TEXT,
    UNIQUE (slot_id, entry_id)
);
CREATE UNIQUE INDEX waitlist_offers_one_yes ON waitlist_offers(slot_id) WHERE state = 'accepted';
CREATE INDEX waitlist_offers_number ON waitlist_offers(number, created_at);
CREATE INDEX waitlist_offers_open ON waitlist_offers(state, expires_at);
