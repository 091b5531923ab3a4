"""The feed service of the core: runs the HL7 listener while ``feeds.hl7.enabled``, and the
shared calendar's sync while ``feeds.calendar.enabled``.

Built by :mod:`appliance.app` whenever the store is open, so turning the
listener on, moving it to another address or changing the allow-list,
limits or mappings in the web UI applies at the next ``config.reload``
without a restart. It answers two control commands: ``feeds.status``
(listening or not, counters, the ledger's counts) and ``feeds.reprocess``
(run a stored rejected or held message again, after fixing the mapping).
"""

from __future__ import annotations

import logging
import ssl
from datetime import timedelta
from typing import Any

from appliance.clock import Clock
from appliance.config import Applied, Config
from appliance.config.applied import changed_settings
from appliance.control import CommandTable
from appliance.errors import ClinicBoxError
from appliance.feeds.calsync import CaldavSource, CalendarSource, CalendarSync
from appliance.feeds.icsurl import IcsUrlSource
from appliance.feeds.intake import Intake
from appliance.feeds.mllp import Limits, MllpListener
from appliance.store import feeds as ledger
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)


def _tls(cfg: Config) -> ssl.SSLContext | None:
    """The server context for MLLP over TLS, or None for plain TCP.

    Raises:
        ClinicBoxError: the certificate or key cannot be read (named; the listener stays off).
    """
    hl7 = cfg.feeds.hl7
    if not hl7.tls_cert_file:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(hl7.tls_cert_file, hl7.tls_key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ClinicBoxError(
            f"feeds.hl7.tls_cert_file/tls_key_file cannot be used ({exc}); the HL7 listener stays off"
        ) from None
    return context


def _limits(cfg: Config) -> Limits:
    hl7 = cfg.feeds.hl7
    return Limits(list(hl7.allowed_senders), hl7.max_message_kb * 1024, hl7.read_timeout_s)


class FeedService:
    """The HL7 listener's lifecycle; ``intake`` applies what it receives."""

    name = "feeds"

    def __init__(self, cfg: Config, repos: Repos, clock: Clock) -> None:
        self.cfg = cfg
        self.repos = repos
        self.clock = clock
        self.intake = Intake(cfg, repos, clock)
        self.listener: MllpListener | None = None
        self.error = ""
        self.calendar: CalendarSync | None = None

    def register_commands(self, commands: CommandTable) -> None:
        commands.register("feeds.status", lambda args: self.status())
        commands.register(
            "feeds.reprocess",
            lambda args: self._reprocess(int(args["id"]), str(args.get("actor") or "core")),
        )

    def start(self) -> None:
        if self.cfg.feeds.hl7.enabled:
            self._listen()
        self._start_calendar()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None
        self._stop_calendar()

    def _start_calendar(self) -> None:
        cal = self.cfg.feeds.calendar
        if cal.enabled:
            source: CalendarSource = (
                IcsUrlSource(cal.url, cal.username, cal.password)
                if cal.kind == "ics"
                else CaldavSource(cal.url, cal.username, cal.password)
            )
            self.calendar = CalendarSync(self.cfg, self.repos, self.clock, source)
            self.calendar.start()

    def _stop_calendar(self) -> None:
        if self.calendar is not None:
            self.calendar.stop()
            self.calendar = None

    def _listen(self) -> None:
        hl7 = self.cfg.feeds.hl7
        try:
            tls = _tls(self.cfg)
            listener = MllpListener(hl7.host, hl7.port, _limits(self.cfg), self._answer, self.intake.oversize, tls)
            listener.start()
        except ClinicBoxError as exc:
            self.error = str(exc)
            log.error("%s", exc)
            return
        self.error = ""
        self.listener = listener

    def _answer(self, payload: bytes) -> str:
        return self.intake.handle(payload).ack

    def reconfigure(self, cfg: Config) -> Applied:
        """Everything under ``feeds.hl7`` applies at once; a new address re-binds the listener."""
        old = self.cfg.feeds.hl7
        new = cfg.feeds.hl7
        old_calendar = self.cfg.feeds.calendar
        self.cfg = cfg
        self.intake.reconfigure(cfg)
        changed = changed_settings(old, new, prefix="feeds.hl7.", depth=1)
        calendar_changed = changed_settings(old_calendar, cfg.feeds.calendar, prefix="feeds.calendar.", depth=1)
        if calendar_changed:  # a new server, account or schedule: the sync starts over with it
            self._stop_calendar()
            self._start_calendar()
        changed += calendar_changed
        rebind = (old.enabled, old.host, old.port, old.tls_cert_file, old.tls_key_file) != (
            new.enabled,
            new.host,
            new.port,
            new.tls_cert_file,
            new.tls_key_file,
        )
        if rebind:
            self.stop()
            if new.enabled:
                self._listen()
        elif self.listener is not None:
            self.listener.limits = _limits(cfg)
        if self.error:  # the new address could not be bound: it is not applied (status shows why)
            return Applied([k for k in changed if k not in ("feeds.hl7.enabled", "feeds.hl7.host", "feeds.hl7.port")])
        return Applied(changed)

    def status(self) -> dict[str, Any]:
        since = to_db(self.clock.now() - timedelta(days=1))
        conn = self.repos.store.connection()  # reads only: no write transaction
        summary = ledger.summary(conn, since)
        problems = [
            {
                "id": e.id,
                "feed": e.feed,
                "control_id": e.control_id,
                "received_at": e.received_at,
                "type": e.message_type,
                "status": e.status,
                "location": e.location,
                "reason": e.reason,
            }
            for e in ledger.recent(conn, limit=20)
        ]
        listener = self.listener
        return {
            "enabled": self.cfg.feeds.hl7.enabled,
            "listening": bool(listener and listener.listening),
            "address": f"{self.cfg.feeds.hl7.host}:{listener.port if listener else self.cfg.feeds.hl7.port}",
            "error": self.error,
            "counters": vars(listener.counters).copy() if listener else {},
            "last_24h": summary["counts"],
            "last_message": summary["last"],
            "needs_attention": problems,
            "unkeyed_refusals": [{"at": at, "reason": reason} for at, reason in self.intake.unkeyed],
            "calendar": self.calendar.status() if self.calendar is not None else {"enabled": False},
        }

    def _reprocess(self, entry_id: int, actor: str) -> dict[str, Any]:
        outcome = self.intake.reprocess(entry_id, actor)
        return {"code": outcome.code, "status": outcome.status, "reason": outcome.reason, "location": outcome.location}
