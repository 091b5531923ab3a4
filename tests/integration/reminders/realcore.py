"""The real core for reminder tests, and the patients' phones as SIPp sees them.

* :class:`ReminderBox`: the switchboard tests' :class:`Box` (the demo clinic,
  a real ``python -m appliance run``, a real SQLCipher store) whose clinic
  keeps only the visits a test books, with reminder settings that make a
  reminder call last seconds (short prompts, short key timeouts). It can
  SIGKILL its core and start it again on the same clinic folder.
* :class:`Phones`: one SIPp process on the provider's port (the trunk's
  registrar) answering every call the box places, as every patient's phone
  at once; it answers the trunk's OPTIONS pings too (it *is* the provider)
  unless told not to. SIPp's short message trace (received and sent SIP
  messages with wall-clock times, flushed as they happen) is read back into
  :class:`PhoneCall` rows: who was called (the Request-URI's number), when
  the INVITE arrived and when the call ended.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from appliance.clock import SystemClock
from appliance.config import load_config
from appliance.store import Store
from appliance.store.appointments import AppointmentInput
from appliance.store.patient_input import PatientInput
from appliance.store.timefmt import from_db
from tests.conftest import repos_with_planner
from tests.integration.sip.peers import SippScenario
from tests.integration.sip.peers.common import child_env
from tests.integration.switchboard.box import REPO, Box

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: Reminder prompts short enough that an unanswered-by-key call (an answering
#: machine: hello, a pause for a key, hello, a pause, the machine message) ends in about 6 s.
REMINDER_TEXTS = {
    "en": {
        "reminder_hello": "Please press 1.",
        "reminder_when": "On {date} at {time}.",
        "reminder_menu": "1 or 2.",
        "reminder_machine": "Bye.",
        "reminder_machine_nonumber": "Bye.",
        "reminder_confirmed": "Confirmed.",
        "reminder_cancelled": "Cancelled.",
        "reminder_desk": "Hold on.",
        "reminder_goodbye": "Bye.",
    }
}


def reminder_overlay(**reminders: Any) -> dict[str, Any]:
    """Settings for quick reminder calls in an always-open clinic (English only)."""
    return {
        "clinic": {"languages": ["en"]},
        "prompts": {"texts": REMINDER_TEXTS, "tts_speed": 260},
        "reminders": {
            "offsets_h": [24],
            "interval_s": 1,
            "key_timeout_s": 2.0,
            "ring_s": 10,
            "windows": {day: ["00:00-24:00"] for day in DAYS},
            **reminders,
        },
    }


class ReminderBox(Box):
    """A :class:`Box` whose demo visits are gone before its core first starts.

    ``prepare(box)`` runs once, after the clinic is seeded and before the
    first start (book the test's visits, start the phones on ``box.pstn_port``).
    """

    def __init__(
        self,
        directory: Path,
        overlay: dict[str, Any] | None = None,
        *,
        prepare: Callable[[ReminderBox], None] | None = None,
        **options: Any,
    ) -> None:
        self._prepare = prepare
        self._prepared = False
        super().__init__(directory, overlay, **options)

    def _spawn(self) -> None:
        if not self._prepared:
            self._prepared = True
            self._clear_demo_visits()
            if self._prepare is not None:
                self._prepare(self)
        self.start_process()
        try:
            self.wait(lambda s: True, timeout=30, what="the core to start")
        except AssertionError:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise
        self.store = Store.open(self.dir / "clinicbox.db", self.dir / "store.key", media_dir=self.dir / "media")

    def start_process(self) -> None:
        """Start the core (``python -m appliance run``) without waiting for it."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(self.config), "run"],
            stdout=self._logfh,
            stderr=subprocess.STDOUT,
            env=child_env(),
            cwd=REPO,
        )

    def sigkill(self) -> None:
        """SIGKILL the core (a power cut, as far as the core can tell)."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def _clear_demo_visits(self) -> None:
        cfg = load_config(self.config)
        store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
        try:
            with store.transaction() as conn:
                conn.execute("DELETE FROM appointments")
        finally:
            store.close()

    def book(
        self, numbers: list[str], *, channel: str = "voice", starts_in: timedelta = timedelta(hours=23)
    ) -> dict[str, int]:
        """New patients with these numbers, each with a visit ``starts_in`` from now
        (23 h: the 24 h reminder is due at once). Booking plans the reminders in the
        same transaction, as the web UI does. Returns number -> appointment id."""
        cfg = load_config(self.config)
        store = Store.open(cfg.db_path, cfg.paths.key_file, clock=SystemClock(assume_synced=True))
        booked: dict[str, int] = {}
        try:
            repos = repos_with_planner(cfg, store)
            starts_at = (datetime.now(UTC) + starts_in).replace(second=0, microsecond=0)
            for number in numbers:
                pid = repos.patients.create(
                    PatientInput(
                        name=f"Patient {number[-4:]}", phones=[number], reminder_channel=channel, language="en"
                    ),
                    "test",
                )
                booked[number] = repos.appointments.create(
                    AppointmentInput(patient_id=pid, starts_at=starts_at, provider="Dr Lee", reason="private"), "test"
                )
        finally:
            store.close()
        return booked

    def reminders(self) -> list[Reminder]:
        """Every reminder row with its patient's number."""
        rows = self.query(
            "SELECT r.id, ph.e164, r.channel, r.status, r.attempts, r.outcome, r.next_attempt_at, r.expires_at"
            " FROM reminders r JOIN appointments a ON a.id = r.appointment_id"
            " JOIN patient_phones ph ON ph.patient_id = a.patient_id ORDER BY r.id"
        )
        return [
            Reminder(int(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]), str(r[5] or ""), _t(r[6]), _t(r[7]))
            for r in rows
        ]

    def attempts(self) -> list[Attempt]:
        rows = self.query(
            "SELECT id, reminder_id, channel, route, state, outcome, detail, started_at, ended_at"
            " FROM reminder_attempts ORDER BY id"
        )
        return [
            Attempt(
                int(r[0]),
                int(r[1]),
                str(r[2]),
                str(r[3]),
                str(r[4]),
                str(r[5] or ""),
                str(r[6] or ""),
                _t(r[7]),
                _t(r[8]),
            )
            for r in rows
        ]


@dataclass(frozen=True)
class Reminder:
    id: int
    number: str
    channel: str
    status: str
    attempts: int
    outcome: str
    next_attempt_at: float | None
    expires_at: float | None


@dataclass(frozen=True)
class Attempt:
    id: int
    reminder_id: int
    channel: str
    route: str
    state: str
    outcome: str
    detail: str
    started_at: float | None
    ended_at: float | None


def _t(value: Any) -> float | None:
    """A store timestamp as epoch seconds (the phones' trace uses the same clock)."""
    moment = from_db(value) if value else None
    return moment.timestamp() if moment is not None else None


# -- the phones ------------------------------------------------------------------------------


def _bound(port: int) -> bool:
    """Has a process (SIPp) bound UDP 127.0.0.1:port? Read from /proc, so that
    asking never takes the port from under SIPp."""
    wanted = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(line.split()[1] == wanted for line in lines if len(line.split()) > 1)


_SDP = """v=0
      o=sipp 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20"""


def phones_xml(*, ring_ms: int = 200, options: bool = True) -> str:
    """Answer every INVITE (180, ``ring_ms``, 200) and wait for the box's BYE;
    with ``options``, answer OPTIONS pings with 200 as a provider does."""

    def reply(code: str, tag: bool, body: str = "") -> str:
        to_tag = ";tag=[pid]SIPpTag01[call_number]" if tag else ""
        tail = (
            f"Content-Type: application/sdp\n      Content-Length: [len]\n\n      {body}"
            if body
            else ("Content-Length: 0\n")
        )
        return f"""<send><![CDATA[
      SIP/2.0 {code}
      [last_Via:]
      [last_From:]
      [last_To:]{to_tag}
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:phone@[local_ip]:[local_port]>
      {tail}
      ]]></send>"""

    opt_branch = '<recv request="OPTIONS" optional="true" next="options"/>' if options else ""
    opt_answer = f'<label id="options"/>\n  {reply("200 OK", True)}\n' if options else ""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="patients-phones">
  {opt_branch}
  <recv request="INVITE" crlf="true" rrs="true"/>
  {reply("180 Ringing", True)}
  <pause milliseconds="{ring_ms}"/>
  {reply("200 OK", True, _SDP)}
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  {reply("200 OK", False)}
  <nop next="end"/>
  {opt_answer}  <label id="end"/>
</scenario>
"""


@dataclass
class PhoneCall:
    """One call the box placed, as the phone saw it."""

    call_id: str
    number: str
    invited_at: float
    ended_at: float | None = None


class Phones:
    """SIPp on ``port`` (127.0.0.1) answering the box's calls; see the module docstring."""

    def __init__(self, workdir: Path, port: int, *, ring_ms: int = 200, options: bool = True) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self.trace = self.workdir / f"phones-{port}-{time.monotonic_ns()}.trace"
        self.sipp = SippScenario(
            phones_xml(ring_ms=ring_ms, options=options),
            self.workdir,
            port=port,
            calls=1_000_000,
            concurrent=10_000,
            timeout_s=3600,
            extra=["-trace_shortmsg", "-shortmessage_file", str(self.trace)],
        )
        deadline = time.monotonic() + 10
        while not _bound(port) and self.sipp.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _bound(port):
            self.sipp.close()
            raise AssertionError(f"SIPp (the phones) did not start:\n{self.sipp.log.read_text(errors='replace')}")

    def _messages(self) -> list[tuple[float, str, str, str, str]]:
        """(epoch, R/S, Call-ID, CSeq, first line) of every traced message so far."""
        out: list[tuple[float, str, str, str, str]] = []
        try:
            text = self.trace.read_text(encoding="ascii", errors="replace")
        except OSError:
            return out
        for line in text.splitlines():
            parts = line.split("\t")
            if len(parts) >= 7:
                try:
                    out.append((float(parts[2]), parts[3], parts[4], parts[5], parts[6]))
                except ValueError:
                    continue
        return out

    def calls(self) -> list[PhoneCall]:
        """Every INVITE the phones received (one per Call-ID), in arrival order."""
        found: dict[str, PhoneCall] = {}
        for at, direction, call_id, cseq, first in self._messages():
            if direction == "R" and first.startswith("INVITE ") and call_id not in found:
                uri = first.split()[1]
                number = uri.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
                found[call_id] = PhoneCall(call_id, number, at)
            elif call_id in found and found[call_id].ended_at is None and cseq.endswith(" BYE"):
                found[call_id].ended_at = at
        return sorted(found.values(), key=lambda c: c.invited_at)

    def options_answered(self) -> int:
        return sum(1 for _, d, _, cseq, first in self._messages() if d == "S" and cseq.endswith(" OPTIONS"))

    def by_number(self) -> dict[str, list[PhoneCall]]:
        out: dict[str, list[PhoneCall]] = {}
        for call in self.calls():
            out.setdefault(call.number, []).append(call)
        return out

    def most_at_once(self) -> int:
        """The most calls ringing or connected at the same moment (calls with no BYE count as open)."""
        edges = []
        for call in self.calls():
            edges.append((call.invited_at, 1))
            if call.ended_at is not None:
                edges.append((call.ended_at, -1))
        edges.sort(key=lambda e: (e[0], e[1]))  # an end and a start at the same instant do not overlap
        best = now = 0
        for _, step in edges:
            now += step
            best = max(best, now)
        return best

    def stop(self) -> None:
        self.sipp.close()
