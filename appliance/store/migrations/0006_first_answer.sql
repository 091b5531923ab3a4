-- ClinicBox schema version 6: each queued call keeps its first agent's answer.
--
-- A caller an agent transfers back into a queue is answered twice, and
-- agent_answered_at moves to the second agent; their speed of answer ended
-- with the first. Reports used to find that first answer in queue_events with
-- one probe per call (about a fifth of a 30-day KPI report); the switchboard
-- now writes it once, here.
ALTER TABLE calls ADD COLUMN first_answered_at TEXT;

UPDATE calls SET first_answered_at = (
    SELECT min(e.at) FROM queue_events e WHERE e.call_id = calls.id AND e.event = 'answer')
WHERE queued_at IS NOT NULL AND agent_answered_at IS NOT NULL;
