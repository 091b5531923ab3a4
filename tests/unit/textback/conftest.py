"""A text-back world on a real SQLCipher store: the real SMS queue (no modem needed to queue),
the real text-back sender and inbox hooks, a fake clock."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from appliance.clock import FakeClock
from appliance.config import Config
from appliance.events import EventBus
from appliance.modem.smsservice import IncomingSms, SmsService
from appliance.store import Store, callbacks, calls, voicemail
from appliance.store.repos import Repos
from appliance.store.sms import SmsRepo
from appliance.store.timefmt import to_db
from appliance.textback.inbox import Keywords, TextBackReplies
from appliance.textback.sender import TextBacks
from tests.conftest import clinic_config, repos_with_planner

_ids = itertools.count(1)


@dataclass
class World:
    cfg: Config
    clock: FakeClock
    store: Store
    repos: Repos
    sms: SmsService
    texts: TextBacks
    keywords: Keywords
    replies: TextBackReplies
    events: list[Any]

    def missed(
        self,
        number: str,
        disposition: str = "abandoned",
        *,
        source: str | None = "abandoned",
        patient_id: int | None = None,
        language: str | None = None,
        voicemail_left: bool = False,
        ago: timedelta = timedelta(seconds=20),
    ) -> int:
        """A call that ended ``ago`` (its row as the switchboard's writer leaves it); returns its id."""
        uuid = f"call-{next(_ids)}"
        end = self.clock.now() - ago
        with self.store.transaction() as conn:
            cid = calls.insert(
                conn, uuid=uuid, direction="inbound", started_at=to_db(end - timedelta(seconds=50)), caller=number,
                callee="+48221000000", patient_id=patient_id,
            )  # fmt: skip
            calls.update(conn, uuid, ended_at=to_db(end), disposition=disposition, language=language)
            if source is not None and number.startswith("+"):
                callbacks.open_request(
                    conn, uuid, number, patient_id, "front-desk", source, end, end - timedelta(seconds=50), 30.0
                )
            if voicemail_left:
                voicemail.add_voicemail(
                    conn, mailbox="general", call_id=cid, caller=number, patient_id=patient_id, received_at=end,
                    duration_s=5.0, media_file="x.enc", language=None,
                )  # fmt: skip
        return cid

    def outgoing(self) -> list[tuple[str, str]]:
        return [(str(r[0]), str(r[1])) for r in self.store.query(
            "SELECT number, body FROM sms_messages WHERE direction = 'out' ORDER BY id"
        )]  # fmt: skip

    def trace(self, call_id: int) -> list[tuple[str, str, str]]:
        return [(str(r[0]), str(r[1]), str(r[2])) for r in self.store.query(
            "SELECT kind, outcome, reason FROM contact_log WHERE call_id = ? ORDER BY id", (call_id,)
        )]  # fmt: skip

    def incoming(self, number: str, text: str, patient_id: int | None = None) -> IncomingSms:
        sms_id, _ = SmsRepo(self.store, self.clock).insert_incoming(
            number, text, 1, "gsm7", "received", self.clock.now(), patient_id
        )
        return IncomingSms(sms_id, number, text, self.clock.now(), False, patient_id)

    def at_local(self, hh: int, mm: int = 0) -> None:
        """Move the fake clock forward to the next hh:mm in Warsaw (CET in March: UTC+1)."""
        now = self.clock.now()
        target = now.replace(hour=(hh - 1) % 24, minute=mm, second=0, microsecond=0)
        if target <= now:
            target += timedelta(days=1)
        self.clock.advance((target - now).total_seconds())


def make_world(tmp_path: Any, clock: FakeClock, **overrides: Any) -> World:
    cfg = clinic_config(tmp_path, **overrides)
    store = Store.create(cfg.db_path, cfg.paths.key_file, clock=clock, media_dir=cfg.media_dir)
    bus = EventBus()
    events: list[Any] = []
    bus.subscribe(events.append)
    sms = SmsService(SmsRepo(store, clock), cfg.modem, clock, bus, region=cfg.clinic.country)
    return World(
        cfg,
        clock,
        store,
        repos_with_planner(cfg, store),
        sms,
        TextBacks(cfg, clock, store, sms),
        Keywords(cfg, clock, store, sms),
        TextBackReplies(cfg, clock, store, bus),
        events,
    )


@pytest.fixture
def world(tmp_path: Any, clock: FakeClock) -> Any:
    w = make_world(tmp_path, clock)
    yield w
    w.store.close()


def first(rows: list[Any]) -> Any:
    return rows[0] if rows else None


__all__ = ["World", "datetime", "first", "make_world"]
