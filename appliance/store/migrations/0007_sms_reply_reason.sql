-- ClinicBox schema version 7: why the reminders left a patient's reply for the front desk.
--
-- An SMS the reminder module could not read as a confirmation, cancellation or
-- STOP stays in the Text messages inbox; reply_reason says why, as a code
-- (question, reschedule, date, yes-and-no, unknown-language, already-answered...,
-- see appliance.reminders.replies.REASONS) that the web UI shows translated.
-- NULL for outgoing messages, answers the box read, and messages before this version.
ALTER TABLE sms_messages ADD COLUMN reply_reason TEXT;
