"""A control socket for a simulator running in its own process (the demo).

``clinicbox modem simulate --link PATH --control SOCK`` listens on a Unix
socket for JSON lines, one command per line, and answers one JSON line:

=================================================  ===========================
``{"cmd": "sms", "from": "+48…", "text": "TAK"}``  an SMS arrives (``encoding``,
                                                   ``order``, ``drop``,
                                                   ``duplicate`` optional)
``{"cmd": "call", "from": "+48…"}``                an incoming call rings
``{"cmd": "hangup"}``                              the far end hangs up
``{"cmd": "hang"}``                                the modem hangs until reset
``{"cmd": "reset"}``                               USB power cycle
``{"cmd": "network", "available": false}``         coverage lost / back
``{"cmd": "signal", "rssi": 12}``                  signal strength (0-31)
``{"cmd": "sms_error", "code": 500}``              next send fails
``{"cmd": "sent"}``                                SMS the host sent so far (one per PDU)
``{"cmd": "calls"}``                               the voice calls on the line now
``{"cmd": "voice"}``                               where a call's voice goes now
                                                   (``route``: uac, serial, "") and the
                                                   voice port's PCM so far (seconds)
``{"cmd": "voice_unplug"}``                        the voice serial port vanishes
=================================================  ===========================

Answers are ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socketserver
import threading
from pathlib import Path
from typing import Any

from appliance.modem.sim.ptydevice import PtySimulator

log = logging.getLogger(__name__)


def handle(sim: PtySimulator, request: dict[str, Any]) -> dict[str, Any]:
    """Run one control command against the simulator."""
    modem = sim.modem
    cmd = request.get("cmd")
    if cmd == "sms":
        options = {k: request[k] for k in ("encoding", "order", "drop", "duplicate", "only", "ref") if k in request}
        parts = modem.inject_sms(str(request["from"]), str(request["text"]), **options)
        return {"ok": True, "parts": parts}
    if cmd == "call":
        modem.inject_call(str(request["from"]), withheld=bool(request.get("withheld", False)))
    elif cmd == "hangup":
        modem.remote_hangup()
    elif cmd == "hang":
        modem.hang()
    elif cmd == "reset":
        sim.usb_reset()
    elif cmd == "network":
        modem.set_network(bool(request.get("available", True)), sticky=bool(request.get("sticky", False)))
    elif cmd == "signal":
        modem.set_signal(int(request["rssi"]))
    elif cmd == "sms_error":
        modem.fail_next_sms(int(request.get("code", 500)), int(request.get("count", 1)))
    elif cmd == "sent":
        return {
            "ok": True,
            "sent": [
                {
                    "mr": s.mr,
                    "number": s.number,
                    "text": s.text,
                    "encoding": s.encoding,
                    "concat": list(s.concat) if s.concat else None,  # [ref, total, seq] of a long text's part
                }
                for s in modem.sent
            ],
        }
    elif cmd == "calls":
        return {
            "ok": True,
            "calls": [{"state": c.state, "outgoing": c.outgoing, "number": c.number} for c in modem.state.calls],
        }
    elif cmd == "voice":
        reading = sim.voice.reading() if sim.voice is not None else {}
        port = sim.voice.path if sim.voice is not None else ""
        return {"ok": True, "route": modem.voice_route(), "port": port, **reading}
    elif cmd == "voice_unplug":
        if sim.voice is None:
            return {"ok": False, "error": "this simulated modem has no voice serial port"}
        sim.voice.unplug()
    else:
        return {"ok": False, "error": f"unknown command {cmd!r}"}
    return {"ok": True}


class ControlServer:
    """Serves :func:`handle` on a Unix socket (mode 0600) in a thread."""

    def __init__(self, sim: PtySimulator, path: Path) -> None:
        self.sim = sim
        self.path = Path(path)
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        sim = self.sim

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    try:
                        reply = handle(sim, json.loads(raw))
                    except (ValueError, KeyError, TypeError) as exc:
                        reply = {"ok": False, "error": str(exc)}
                    self.wfile.write((json.dumps(reply, ensure_ascii=False) + "\n").encode())

        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        os.chmod(self.path, 0o600)
        self._thread = threading.Thread(target=self._server.serve_forever, name="modem-sim-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
