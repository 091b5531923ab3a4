"""Asking the running edge: Kamailio's JSON-RPC over its Unix datagram socket.

The edge's ``jsonrpcs`` module listens on ``<paths.edge_dir>/rpc.sock``.
A client binds its own datagram socket in the same folder (the edge
answers to it) and removes it afterwards. Used from the core's
registration poller thread and from ``clinicbox doctor``; never from the
PJSUA2 thread.

Example:
    >>> EdgeRpc(Path("/nonexistent")).registrations()  # doctest: +SKIP
    {'desk1': ['sip:desk1@192.168.1.40:5060']}
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

from appliance.errors import EdgeError

SOCKET_NAME = "rpc.sock"
#: The edge's counters (security.cfg's header and the registrar in kamailio.cfg.in say what each counts).
COUNTERS = (
    "sec_malformed",
    "sec_refused",
    "sec_untrusted",
    "sec_flood",
    "sec_scan",
    "auth_failed",
    "auth_locked",
)
_counter = itertools.count(1)


class EdgeRpc:
    """One client of the edge's RPC socket (thread-safe: one call at a time)."""

    def __init__(self, edge_dir: Path, timeout: float = 2.0) -> None:
        self.server = Path(edge_dir) / SOCKET_NAME
        self.timeout = timeout
        self._lock = threading.Lock()

    def call(self, method: str, *params: Any) -> Any:
        """The ``result`` of one RPC.

        Raises:
            EdgeError: the edge is not running, did not answer in time, or
                answered with an error.
        """
        request = {"jsonrpc": "2.0", "method": method, "params": list(params), "id": next(_counter)}
        with self._lock:
            reply = self._exchange(json.dumps(request).encode())
        try:
            data = json.loads(reply)
        except ValueError as exc:
            raise EdgeError(f"the SIP edge answered {method} with something that is not JSON") from exc
        if "error" in data:
            err = data["error"]
            raise EdgeError(f"the SIP edge refused {method}: {err.get('message', err)}")
        return data.get("result")

    def _exchange(self, payload: bytes) -> bytes:
        own = self.server.with_name(f"c{os.getpid()}.{threading.get_native_id()}.sock")
        with contextlib.suppress(FileNotFoundError):
            own.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            try:
                sock.bind(str(own))
                os.chmod(own, 0o660)  # the edge's user answers to it (same group on the appliance)
            except OSError as exc:
                raise EdgeError(f"cannot ask the SIP edge: {own.parent} is not writable ({exc.strerror})") from None
            sock.settimeout(self.timeout)
            try:
                sock.sendto(payload, str(self.server))
                chunks = [sock.recv(1 << 20)]
            except FileNotFoundError:
                raise EdgeError(f"the SIP edge is not running (no {self.server})") from None
            except ConnectionRefusedError:
                raise EdgeError(f"the SIP edge is not running ({self.server} refuses)") from None
            except TimeoutError:
                raise EdgeError(f"the SIP edge did not answer within {self.timeout:.0f} s") from None
            except PermissionError:
                raise EdgeError(f"not allowed to use {self.server}; run as the core's user or root") from None
            return b"".join(chunks)
        finally:
            sock.close()
            with contextlib.suppress(FileNotFoundError):
                own.unlink()

    # -- what the box asks ------------------------------------------------------------
    def registrations(self) -> dict[str, list[str]]:
        """Registered desk phones: station id → its contact URIs (usrloc ``ul.dump``)."""
        return parse_ul_dump(self.call("ul.dump"))

    def reload_credentials(self) -> None:
        """Load the HA1 table again (after the core wrote a new one)."""
        self.call("htable.reload", "creds")

    def counters(self) -> dict[str, int]:
        """The security counters of route[SECURITY] and the registrar since the edge started."""
        out = {}
        for name in COUNTERS:
            try:
                value = self.call("pv.shvGet", name)
            except EdgeError:
                continue
            out[name] = _shv_value(value)
        return out

    def advertised(self) -> set[str]:
        """The addresses the edge's sockets advertise (Via, Record-Route); empty when none is set."""
        found = set()
        for sock in self.call("corex.list_sockets") or []:
            value = str(sock.get("ADVERTISE", "")) if isinstance(sock, dict) else ""
            if value and value != "-":
                found.add(value.strip("[]"))
        return found

    def stop(self) -> None:
        """Ask Kamailio to exit (SIGTERM to its process group: `clinicbox edge` leads one); its supervisor starts it again.

        systemd (``Restart=always``) or ``clinicbox demo`` restarts it, and
        ``clinicbox edge`` renders the script from the saved config first.
        The edge may go before it answers: a timeout here is not an error.
        """
        try:
            self.call("core.kill")
        except EdgeError as exc:
            if "did not answer" not in str(exc):
                raise

    def locked_out(self) -> list[str]:
        """Addresses locked out for wrong passwords now."""
        return sorted(_htable_names(self.call("htable.dump", "lock")))


def _shv_value(value: Any) -> int:
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("value", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _htable_names(result: Any) -> list[str]:
    names: list[str] = []
    for entry in result or []:
        for slot in entry.get("slot", []) if isinstance(entry, dict) else []:
            if isinstance(slot, dict) and "name" in slot:
                names.append(str(slot["name"]))
    return names


def parse_ul_dump(result: Any) -> dict[str, list[str]]:
    """Kamailio 5.6's ``ul.dump`` result → station id → contact URIs. Pure.

    The shape is ``{"Domains": [{"Domain": {"Domain": "location", "AoRs":
    [{"Info": {"AoR": "desk1", "Contacts": [{"Contact": {"Address":
    "sip:..."}}]}}]}}]}``.
    """
    out: dict[str, list[str]] = {}
    if not isinstance(result, dict):
        return out
    for dom in result.get("Domains", []) or []:
        domain = dom.get("Domain", {}) if isinstance(dom, dict) else {}
        for aor in domain.get("AoRs", []) or []:
            info = aor.get("Info", {}) if isinstance(aor, dict) else {}
            name = str(info.get("AoR", ""))
            contacts = []
            for c in info.get("Contacts", []) or []:
                contact = c.get("Contact", {}) if isinstance(c, dict) else {}
                if contact.get("Address"):
                    contacts.append(str(contact["Address"]))
            if name and contacts:
                out[name.split("@", 1)[0]] = contacts
    return out
