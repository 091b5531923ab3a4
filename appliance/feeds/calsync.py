"""The shared calendar: pull a CalDAV collection on a schedule and keep the fed appointments in step.

:class:`CalendarSync` asks its :class:`CalendarSource` (the port; the real
one is :class:`CaldavSource`, the ``caldav`` library) for what changed
since the last sync token (the first sync, or a server that forgot the
token, reads everything), maps each calendar object with the pure
:mod:`appliance.feeds.calmap`, and applies the changes through the same
:class:`~appliance.feeds.apply.ChangeWriter` as the HL7 feed: audited,
re-planned, in one transaction with the new token.

**A failed or empty sync never cancels.** A server that is down or
answers garbage changes nothing (the failure is shown on the status); a
full read that suddenly returns no event while the box holds future
visits from this calendar, or a sync that would remove more than half of
them, is refused whole and shown, and the token is kept so the next sync
asks again. Only an event the server reports deleted (or marks
``STATUS:CANCELLED``, or an occurrence that left its repeat rule) cancels
its visits. An object read again unchanged (a published calendar is read
whole) is not applied again, so a visit the patient cancelled on the box is
not booked again by an event that did not change.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

from appliance.clock import Clock
from appliance.config import Config
from appliance.feeds import calmap
from appliance.feeds.apply import ChangeWriter
from appliance.feeds.model import MessageRejected
from appliance.store import appointments as appts
from appliance.store import feeds as ledger
from appliance.store import settings as state
from appliance.store import worklist
from appliance.store.connection import Connection
from appliance.store.repos import Repos
from appliance.store.timefmt import to_db

log = logging.getLogger(__name__)
#: A sync that would cancel more than this share of the calendar's future visits (and more than
#: MASS_MIN of them) is refused as a probable server fault.
MASS_SHARE = 0.5
MASS_MIN = 5


@dataclass
class Fetched:
    """What the server answered: the new token, changed objects (href, iCalendar text), deleted hrefs."""

    token: str | None
    changed: list[tuple[str, str]]
    deleted: list[str]
    full: bool


class CalendarSource(Protocol):
    """The calendar server as the sync sees it (``writable``: the box may write events back)."""

    writable: bool

    def fetch(self, token: str | None) -> Fetched: ...

    def put(self, href: str, data: str) -> None: ...


class CaldavSource:
    """A CalDAV collection through the ``caldav`` library (sync-token REPORT, RFC 6578)."""

    writable = True

    def __init__(self, url: str, username: str, password: str, timeout: float = 120.0) -> None:
        self.url = url
        self.username = username
        self.password = password
        self.timeout = timeout

    def _calendar(self) -> Any:
        import caldav

        dav: Any = caldav.DAVClient
        client = dav(self.url, username=self.username or None, password=self.password or None, timeout=self.timeout)
        return client.calendar(url=self.url)

    def fetch(self, token: str | None) -> Fetched:
        """Changes since ``token`` (RFC 6578 sync-collection), or everything when there is none or
        the server refuses it. Objects are read in calendar-multiget batches, not one GET each."""
        calendar = self._calendar()
        if token:
            try:
                found = calendar.get_objects_by_sync_token(sync_token=token, load_objects=False, disable_fallback=True)
            except Exception:  # the server forgot the token (or never knew it): read everything
                log.info("calendar: the sync token was refused; reading the whole calendar")
            else:
                deleted = {str(u) for u in getattr(found, "deleted_urls", set())}
                urls = [o.url for o in found if str(o.url) not in deleted]
                return self._checked(Fetched(found.sync_token, self._load(calendar, urls), sorted(deleted), full=False))
        found = calendar.get_objects_by_sync_token(load_objects=False)
        return self._checked(Fetched(found.sync_token, self._load(calendar, [o.url for o in found]), [], full=True))

    @staticmethod
    def _load(calendar: Any, urls: list[Any], batch: int = 500) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for i in range(0, len(urls), batch):
            out += [(str(o.url), o.data) for o in calendar.multiget(urls[i : i + batch]) if o.data is not None]
        return out

    def put(self, href: str, data: str) -> None:
        """Replace one calendar object (the box's write-back)."""
        import caldav

        calendar = self._calendar()
        event: Any = caldav.Event
        event(client=calendar.client, url=href, data=data, parent=calendar).save()

    def _checked(self, fetched: Fetched) -> Fetched:
        """A WebDAV answer that gives no sync token, or names resources outside the calendar, is not one."""
        from urllib.parse import urlsplit

        if not fetched.token:
            raise ValueError("the server's answer carries no sync token")
        base = urlsplit(self.url).path.rstrip("/") + "/"
        for href in [h for h, _ in fetched.changed] + fetched.deleted:
            if not urlsplit(href).path.startswith(base):
                raise ValueError("the server's answer names resources outside the calendar")
        return fetched


@dataclass
class SyncReport:
    ok: bool
    reason: str = ""
    changed: int = 0
    deleted: int = 0
    applied: int = 0
    cancelled: int = 0
    unusable: list[tuple[str, str]] = field(default_factory=list)
    written: int = 0
    seconds: float = 0.0


class CalendarSync:
    """One calendar feed; :meth:`sync_once` is a whole sync, :meth:`start` runs it on a schedule."""

    name = "calendar"

    def __init__(self, cfg: Config, repos: Repos, clock: Clock, source: CalendarSource) -> None:
        self.cfg = cfg
        self.repos = repos
        self.clock = clock
        self.source = source
        self.feed = cfg.feeds.calendar.feed_name()
        self.writer = ChangeWriter(repos, source=cfg.feeds.calendar.kind)
        self.last: SyncReport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def _token_key(self) -> str:
        return f"feeds.calendar.token:{self.feed}"

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="calendar-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sync_once()
            self._stop.wait(self.cfg.feeds.calendar.interval_s)

    def sync_once(self) -> SyncReport:
        """One sync; never raises (a failure is the report's reason, and changes nothing)."""
        began = self.clock.monotonic()
        report = self._sync()
        report.seconds = self.clock.monotonic() - began
        self.last = report
        try:  # for the doctor and the web process, which do not share this process's memory
            with self.repos.store.transaction() as conn:
                state.put_state(
                    conn, self.last_key(self.feed), self._summary(report), to_db(self.clock.now()), self.feed
                )
        except Exception as exc:
            log.warning("calendar %s: the sync's outcome was not recorded (%s)", self.feed, exc)
        if report.ok:
            log.info(
                "calendar %s: %d changed, %d deleted objects; %d visits applied, %d cancelled, %d events unusable",
                self.feed,
                report.changed,
                report.deleted,
                report.applied,
                report.cancelled,
                len(report.unusable),
            )
        else:
            log.warning("calendar %s: sync refused, nothing changed: %s", self.feed, report.reason)
        return report

    def _sync(self) -> SyncReport:
        store = self.repos.store
        token = state.get_state(store.connection(), self._token_key)
        try:
            fetched = self.source.fetch(token)
        except Exception as exc:
            return SyncReport(False, f"the calendar server failed ({type(exc).__name__}: {str(exc)[:120]})")
        now = self.clock.now()
        horizon = now + timedelta(days=self.cfg.feeds.calendar.horizon_days)
        parsed: list[tuple[str, str, Any]] = []
        kept = ledger.entries_of(store.connection(), self.feed)
        for href, data in fetched.changed:
            if href in kept and kept[href][1] == data:
                continue  # read again, not changed: applying it again would undo the box's own changes
            try:
                parsed.append((href, data, calmap.parse(data)))
            except ValueError:
                parsed.append((href, data, None))
        if parsed and all(p[2] is None for p in parsed):
            return SyncReport(False, "the calendar server answered something that is not iCalendar")
        stamp = to_db(now)
        with store.transaction() as conn:
            known = ledger.entries_of(conn, self.feed)
            future = appts.feed_count(conn, self.feed, now)
            deleted = list(fetched.deleted)
            if fetched.full:
                if not fetched.changed and future:
                    return SyncReport(False, f"the calendar came back empty while {future} future visits are from it")
                seen = {href for href, _ in fetched.changed}
                deleted += [href for href in known if href not in seen]
            doomed = sum(self._count_keys(conn, known.get(href), now) for href in deleted)
            if doomed > MASS_MIN and doomed > MASS_SHARE * future:
                return SyncReport(False, f"the sync would cancel {doomed} of {future} future visits; refused")
            report = SyncReport(True, changed=len(fetched.changed), deleted=len(deleted))
            for href, data, calendar in parsed:
                self._apply_object(conn, href, data, calendar, now, horizon, stamp, report)
            for href in deleted:
                entry = known.get(href)
                if entry is not None:
                    report.cancelled += self._cancel_uids(conn, self._uids(entry[1]), set(), now)
                    ledger.forget(conn, entry[0])
            state.put_state(conn, self._token_key, fetched.token, stamp, self.feed)
        if self.cfg.feeds.calendar.write_back and self.source.writable:
            report.written = self.write_back()
        return report

    def write_back(self) -> int:
        """Tell the calendar what the box changed (a confirmation, a cancellation) and tick those
        worklist items done; what cannot be written stays on the worklist. Returns the events written."""
        store = self.repos.store
        written = 0
        conn = store.connection()
        items = worklist.open_for_feed(conn, self.feed)
        if not items:
            return 0
        known = ledger.entries_of(conn, self.feed)
        by_uid = {uid: (href, raw) for href, (_id, raw) in known.items() for uid in self._uids(raw)}
        for item_id, _aid, action, key in items:
            uid, _, occurrence = key.partition("#")
            found = by_uid.get(uid)
            if found is None or action not in ("cancel", "confirm"):
                continue
            href, raw = found
            data = calmap.written_back(raw, uid, occurrence, action)
            if data is None:
                continue
            try:
                self.source.put(href, data)
            except Exception as exc:
                log.warning("calendar %s: write-back failed (%s); the item stays on the worklist", self.feed, exc)
                return written
            with store.transaction() as tx:
                ledger.record(
                    tx,
                    feed=self.feed,
                    control_id=href,
                    received_at=to_db(self.clock.now()),
                    message_type="VEVENT",
                    status="applied",
                    ack_code="AA",
                    raw=data,
                )
                worklist.done_in(
                    tx,
                    self.repos.audit,
                    item_id,
                    f"feed:{self.feed}",
                    to_db(self.clock.now()),
                    f"written back to the calendar: {action}",
                )
            written += 1
        return written

    def _apply_object(
        self,
        conn: Connection,
        href: str,
        data: str,
        calendar: Any,
        now: Any,
        horizon: Any,
        stamp: str,
        report: SyncReport,
    ) -> None:
        if calendar is None:
            report.unusable.append((href, "not iCalendar"))
            self._record(conn, href, data, stamp, "rejected", "not iCalendar")
            return
        changes, unusable, uids = calmap.changes(calendar, self.feed, self.cfg.clinic.timezone, now, horizon)
        keys: set[str] = set()
        for change in changes:
            assert change.appointment is not None
            keys.add(change.appointment.filler_id)
            try:
                with ledger.savepoint(conn):
                    applied = self.writer.apply(conn, change, stamp)
            except MessageRejected as exc:
                unusable.append(calmap.Unusable(change.header.control_id, exc.reason))
                continue
            if applied.status == "applied":
                report.applied += 1
                report.cancelled += change.action == "cancel"
        report.cancelled += self._cancel_uids(conn, uids, keys, now)
        for item in unusable:
            report.unusable.append((item.uid, item.reason))
        reason = unusable[0].reason if unusable else ""
        self._record(conn, href, data, stamp, "rejected" if unusable and not changes else "applied", reason)

    def _record(self, conn: Connection, href: str, data: str, stamp: str, status: str, reason: str) -> None:
        ledger.record(
            conn,
            feed=self.feed,
            control_id=href,
            received_at=stamp,
            message_type="VEVENT",
            status=status,
            ack_code="AA" if status == "applied" else "AE",
            raw=data,
            reason=reason,
        )

    def _cancel_uids(self, conn: Connection, uids: set[str], keep: set[str], now: Any) -> int:
        """Cancel the future visits of ``uids`` that are not in ``keep`` (deleted events, dropped occurrences)."""
        cancelled = 0
        for uid in uids:
            for aid, key, status in appts.feed_keys(conn, self.feed, uid, now):
                if key not in keep and status != "cancelled":
                    self.repos.appointments.set_status(aid, "cancelled", f"feed:{self.feed}", conn=conn)
                    self.repos.audit.append(
                        conn,
                        f"feed:{self.feed}",
                        "feed-cancelled",
                        "appointment",
                        aid,
                        f"caldav {key[:80]} left the calendar",
                    )
                    cancelled += 1
        return cancelled

    def _count_keys(self, conn: Connection, entry: tuple[int, str] | None, now: Any) -> int:
        if entry is None:
            return 0
        return sum(
            1
            for uid in self._uids(entry[1])
            for row in appts.feed_keys(conn, self.feed, uid, now)
            if row[2] != "cancelled"
        )

    @staticmethod
    def _uids(raw: str) -> set[str]:
        try:
            return {str(e.get("UID")) for e in calmap.parse(raw).walk("VEVENT") if e.get("UID")}
        except ValueError:
            return set()

    def reconfigure(self, cfg: Config) -> None:
        self.cfg = cfg

    @staticmethod
    def last_key(feed: str) -> str:
        return f"feeds.calendar.last:{feed}"

    def _summary(self, report: SyncReport) -> dict[str, Any]:
        return {
            "at": to_db(self.clock.now()),
            "ok": report.ok,
            "reason": report.reason,
            "applied": report.applied,
            "cancelled": report.cancelled,
            "unusable": len(report.unusable),
            "written": report.written,
        }

    def status(self) -> dict[str, Any]:
        last = self.last
        if last is None:
            return {"feed": self.feed, "synced": False}
        return {
            "feed": self.feed,
            "synced": True,
            "ok": last.ok,
            "reason": last.reason,
            "changed": last.changed,
            "deleted": last.deleted,
            "applied": last.applied,
            "cancelled": last.cancelled,
            "unusable": [{"uid": uid[:80], "reason": reason} for uid, reason in last.unusable[:50]],
            "seconds": round(last.seconds, 3),
        }
