"""A real ClinicBox core in a subprocess, for tests with real SIP peers.

The clinic is the demo clinic (patients with +1212555xxxx numbers), on free
ports, with short prompt texts (so the IVR takes seconds, not minutes),
short queue timers, no modem and no panel unless asked for, plus whatever
the test overrides in the web UI's settings overlay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from appliance.control import ControlClient
from appliance.demo.seed import seed
from appliance.errors import ControlError
from appliance.store import Store, calls
from tests.conftest import free_port
from tests.integration.sip.peers.common import child_env

REPO = Path(__file__).resolve().parents[3]
SHARED_PROMPTS = Path(tempfile.gettempdir()) / f"clinicbox-test-prompts-{os.getuid()}"

SHORT_TEXTS = {
    "en": {
        "greeting": "Hello.",
        "emergency": "Emergency, dial {emergency}.",
        "main_menu": "Press 1 or 0.",
        "closed": "We are closed.",
        "leave_message": "Leave a message.",
        "goodbye": "Bye.",
        "queue_hold": "Please hold.",
        "callback_confirm": "We will call you back.",
        "callback_greeting": "We are calling you back.",
        "invalid": "Invalid.",
    }
}


def deep_update(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_update(out[key], value)
        else:
            out[key] = value
    return out


class Box:
    """Seed a clinic in ``directory`` and run its core; :meth:`stop` when done."""

    def __init__(
        self,
        directory: Path,
        overlay: dict[str, Any] | None = None,
        *,
        open_hours: bool = True,
        stations: dict[str, dict[str, Any]] | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.dir = directory
        self.sip_port = free_port()
        self.pstn_port = free_port()
        self.hl7_port = free_port(socket_kind_tcp())  # the demo's HL7 listener, off 2575 for parallel cores
        result = seed(
            directory,
            web_port=free_port(socket_kind_tcp()),
            sip_port=self.sip_port,
            rtp_port=20000 + (self.sip_port % 200) * 40,
            pstn_port=self.pstn_port,
            hl7_port=self.hl7_port,
        )
        self.config = result.config_path
        self.manager_password = result.password
        if config:  # keys only clinicbox.toml may set (modem.simulator_profile)
            data = deep_update(tomllib.loads(self.config.read_text(encoding="utf-8")), config)
            self.config.write_text(tomli_w.dumps(data), encoding="utf-8")
        hours = {
            d: (["00:00-24:00"] if open_hours else [])
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
        base: dict[str, Any] = {
            "modem": {"enabled": False},
            "panel": {"enabled": False},
            "hours": {**hours, "holidays": []},
            # One prompt cache for every test core (files are named by content hash).
            "prompts": {"texts": SHORT_TEXTS, "cache_dir": str(SHARED_PROMPTS)},
            "trunk": {"keepalive_interval_s": 0},
            "sip": {"rtp_timeout_s": 30},
            "queues": {
                "front-desk": {
                    "name": "Front desk",
                    "ring_timeout_s": 6,
                    "wrap_up_s": 1,
                    "announce_every_s": 0,
                    "max_wait_s": 60,
                    "callback_key": "1",
                    "mailbox": "general",
                },
                "appointments": {
                    "name": "Appointments",
                    "ring_timeout_s": 6,
                    "wrap_up_s": 1,
                    "announce_every_s": 0,
                    "mailbox": "general",
                },
                "results": {"name": "Results", "mailbox": "general"},
                "billing": {"name": "Billing", "mailbox": "general"},
            },
        }
        if stations is not None:
            base["stations"] = stations
        overlay_data = deep_update(base, overlay or {})
        (directory / "settings.toml").write_text(tomli_w.dumps(overlay_data), encoding="utf-8")
        if stations is not None:
            self._write_station_secrets(stations)
        self.log = directory / "core.log"
        self._logfh = self.log.open("wb")
        self.control = ControlClient(directory / "run" / "control.sock", timeout=5)
        self._spawn()

    def _spawn(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance", "--config", str(self.config), "run"],
            stdout=self._logfh,
            stderr=subprocess.STDOUT,
            env=child_env(),
            cwd=REPO,
        )
        self.wait(lambda s: True, timeout=30, what="the core to start")
        d = self.dir
        self.store = Store.open(d / "clinicbox.db", d / "store.key", media_dir=d / "media")

    def restart(self) -> None:
        """Stop the core as systemd would (SIGTERM) and start it again on the same clinic."""
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=15) == 0, self.tail()
        self.store.close()
        self._spawn()

    def respawn_after_exit(self, timeout: float = 15.0) -> int:
        """Wait for the core to exit by itself, then start it again as systemd's Restart=always would."""
        code = self.proc.wait(timeout=timeout)
        self.store.close()
        self._spawn()
        return code

    def _write_station_secrets(self, stations: dict[str, dict[str, Any]]) -> None:
        path = self.dir / "secrets.toml"
        data = tomllib.loads(path.read_text()) if path.exists() else {}
        for sid in stations:
            data.setdefault("stations", {}).setdefault(sid, {"password": f"pw-{sid}-secret"})
        path.write_text(tomli_w.dumps(data))
        os.chmod(path, 0o600)

    @property
    def uri(self) -> str:
        return f"sip:+12125550100@127.0.0.1:{self.sip_port}"

    @property
    def core(self) -> str:
        return f"sip:127.0.0.1:{self.sip_port}"

    def status(self) -> dict[str, Any]:
        return self.control.status()  # type: ignore[no-any-return]

    def wait(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 10.0, what: str = ""
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the core exited ({self.proc.returncode}); log:\n{self.tail()}")
            try:
                last = self.status()
                if predicate(last):
                    return last
            except ControlError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what or predicate}; last status: {last}\nlog:\n{self.tail()}")

    def agent(self, station: str) -> dict[str, Any]:
        return next(a for a in self.status()["agents"] if a["station"] == station)

    def wait_agent(self, station: str, state: str, timeout: float = 10.0) -> None:
        self.wait(
            lambda s: any(a["station"] == station and a["state"] == state for a in s["agents"]),
            timeout,
            f"{station} to be {state}",
        )

    def call_record(
        self, predicate: Callable[[calls.CallRecord], bool] | None = None, timeout: float = 10.0
    ) -> calls.CallRecord:
        """The newest finished call (with a disposition) matching ``predicate``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for rec in calls.recent(self.store, 50):
                if rec.disposition and (predicate is None or predicate(rec)):
                    return rec
            time.sleep(0.1)
        raise AssertionError(f"no finished call matched; log:\n{self.tail()}")

    def query_events(self, uuid: str) -> list[dict[str, Any]]:
        return calls.queue_events(self.store, uuid)

    def rows(self, sql: str, params: tuple[Any, ...] = (), timeout: float = 5.0) -> list[Any]:
        """``query`` until it returns rows (the core's store writer commits a moment later); [] if none came."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.query(sql, params)
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return [tuple(r) for r in self.store.query(sql, params)]

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.store.close()
        self._logfh.close()
        return int(self.proc.returncode)


def socket_kind_tcp() -> int:
    import socket

    return socket.SOCK_STREAM
