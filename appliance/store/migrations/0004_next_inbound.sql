-- ClinicBox schema version 4: each inbound call knows the same caller's next one.
--
-- First-call resolution asks, for every answered call, whether the caller
-- rang again within 7 days. Looking that up at report time costs one index
-- seek per call (about half of a 30-day report on a busy clinic); keeping it
-- up to date as calls are written costs one seek per new call.
--
-- next_inbound_at: started_at of the same caller's next inbound call strictly
-- later (NULL: none yet). Only inbound calls carry it. The triggers keep it
-- exact whatever the order calls are written, moved (erasure rewrites the
-- caller) or deleted (retention) in.
ALTER TABLE calls ADD COLUMN next_inbound_at TEXT;

UPDATE calls SET next_inbound_at = (
    SELECT min(n.started_at) FROM calls n
    WHERE n.caller = calls.caller AND n.direction = 'inbound' AND n.started_at > calls.started_at)
WHERE direction = 'inbound';

-- A call joins its caller's chain: the calls just before it now lead to it,
-- and it leads to whatever came after it (if it was written late).
CREATE TRIGGER calls_next_inbound_insert AFTER INSERT ON calls WHEN NEW.direction = 'inbound'
BEGIN
    UPDATE calls SET next_inbound_at = NEW.started_at
    WHERE caller = NEW.caller AND direction = 'inbound'
      AND started_at = (SELECT max(p.started_at) FROM calls p
                        WHERE p.caller = NEW.caller AND p.direction = 'inbound' AND p.started_at < NEW.started_at)
      AND (next_inbound_at IS NULL OR next_inbound_at > NEW.started_at);
    UPDATE calls SET next_inbound_at = (
        SELECT min(n.started_at) FROM calls n
        WHERE n.caller = NEW.caller AND n.direction = 'inbound' AND n.started_at > NEW.started_at)
    WHERE id = NEW.id AND EXISTS (
        SELECT 1 FROM calls n WHERE n.caller = NEW.caller AND n.direction = 'inbound' AND n.started_at > NEW.started_at);
END;

-- A call leaves its caller's chain: the calls that led to it lead past it.
CREATE TRIGGER calls_next_inbound_delete AFTER DELETE ON calls WHEN OLD.direction = 'inbound'
BEGIN
    UPDATE calls SET next_inbound_at = (
        SELECT min(n.started_at) FROM calls n
        WHERE n.caller = OLD.caller AND n.direction = 'inbound' AND n.started_at > calls.started_at)
    WHERE caller = OLD.caller AND direction = 'inbound' AND next_inbound_at = OLD.started_at;
END;

-- A call changes caller, direction or time (erasure writes 'erased' over the
-- number): it leaves its old chain and joins the new one.
CREATE TRIGGER calls_next_inbound_update AFTER UPDATE OF caller, direction, started_at ON calls
BEGIN
    UPDATE calls SET next_inbound_at = (
        SELECT min(n.started_at) FROM calls n
        WHERE n.caller = OLD.caller AND n.direction = 'inbound' AND n.started_at > calls.started_at)
    WHERE OLD.direction = 'inbound' AND caller = OLD.caller AND direction = 'inbound'
      AND next_inbound_at = OLD.started_at;
    UPDATE calls SET next_inbound_at = NEW.started_at
    WHERE NEW.direction = 'inbound' AND caller = NEW.caller AND direction = 'inbound'
      AND started_at = (SELECT max(p.started_at) FROM calls p
                        WHERE p.caller = NEW.caller AND p.direction = 'inbound' AND p.started_at < NEW.started_at)
      AND (next_inbound_at IS NULL OR next_inbound_at > NEW.started_at);
    UPDATE calls SET next_inbound_at = CASE WHEN NEW.direction = 'inbound' THEN (
        SELECT min(n.started_at) FROM calls n
        WHERE n.caller = NEW.caller AND n.direction = 'inbound' AND n.started_at > NEW.started_at) END
    WHERE id = NEW.id;
END;
