-- ClinicBox schema version 3: what the reminder dispatcher needs.
-- planned_for: the appointment start a reminder was planned for. When the
-- visit moves, a reminder planned for the old time may go out again for the
-- new one; a re-plan for the same time never revives a finished reminder.
ALTER TABLE reminders ADD COLUMN planned_for TEXT NOT NULL DEFAULT '';
-- Attempts not finished yet: the dispatcher's in-flight set, and what a
-- restart after a crash must find (and never redial).
CREATE INDEX reminder_attempts_open ON reminder_attempts(state) WHERE state != 'finished';
-- The SMS of a reminder attempt (crash recovery: was it queued before the crash?).
CREATE INDEX sms_reminder_attempt ON sms_messages(reminder_attempt_id) WHERE reminder_attempt_id IS NOT NULL;
-- Pending reminders whose window closed (every dispatcher tick asks).
CREATE INDEX reminders_expiry ON reminders(status, expires_at);
