"""Trunk health: a TLS trunk is judged by its registration, never by UDP OPTIONS to its TLS port."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from appliance.switchboard.trunk import TrunkMonitor
from tests.conftest import clinic_config


def registrar_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    return sock


def monitor(tmp_path: Path, transport: str, port: int) -> tuple[TrunkMonitor, list[tuple[str, dict[str, Any]]]]:
    cfg = clinic_config(
        tmp_path,
        sip={"bind_address": "127.0.0.1", "tls": transport == "tls"},
        trunk={
            "enabled": True,
            "register": True,
            "registrar": f"sip:127.0.0.1:{port}",
            "username": "clinic",
            "password": "secret",
            "transport": transport,
            "keepalive_interval_s": 30,
        },
    )
    events: list[tuple[str, dict[str, Any]]] = []
    return TrunkMonitor(cfg, lambda kind, **data: events.append((kind, data))), events


def test_a_registered_tls_trunk_is_up_and_gets_no_udp_options(tmp_path: Path) -> None:
    with registrar_socket() as registrar:
        trunk, events = monitor(tmp_path, "tls", registrar.getsockname()[1])
        trunk.start()
        try:
            trunk.on_registration(200, "OK", True)
            assert trunk.view()["state"] == "up"
            assert events == [("trunk.up", {"reason": "registered"})]
            try:
                data = registrar.recv(65535)
            except TimeoutError:
                data = b""
            assert data == b""  # nothing was sent over UDP to the TLS port
        finally:
            trunk.stop()


def test_a_tls_trunk_that_loses_its_registration_is_down(tmp_path: Path) -> None:
    trunk, events = monitor(tmp_path, "tls", 5061)
    trunk.start()
    trunk.on_registration(200, "OK", True)
    trunk.on_registration(408, "Request Timeout", False)
    trunk.stop()
    assert trunk.view()["state"] == "down"
    assert [kind for kind, _ in events] == ["trunk.up", "trunk.down"]


def test_a_udp_trunk_is_still_pinged_with_options(tmp_path: Path) -> None:
    with registrar_socket() as registrar:
        trunk, events = monitor(tmp_path, "udp", registrar.getsockname()[1])
        trunk.start()
        try:
            trunk.on_registration(200, "OK", True)
            assert trunk.view()["state"] == "registering"  # registered, but is the provider there?
            data, sender = registrar.recvfrom(65535)
            assert data.startswith(b"OPTIONS sip:127.0.0.1:")
            registrar.sendto(b"SIP/2.0 200 OK" + data[data.index(b"\r\n") :], sender)
            deadline = time.monotonic() + 2
            while trunk.view()["state"] != "up" and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            trunk.stop()
        assert trunk.view()["state"] == "up"
        assert events == [("trunk.up", {"reason": "registered"})]


def test_a_successful_registration_tells_the_provider_resolver(tmp_path: Path) -> None:
    trunk, _ = monitor(tmp_path, "tls", 5061)
    kicks: list[str] = []
    trunk.on_registered.append(lambda: kicks.append("kick"))
    trunk.on_registration(401, "Unauthorized", False)
    trunk.on_registration(200, "OK", True)
    assert kicks == ["kick"]
