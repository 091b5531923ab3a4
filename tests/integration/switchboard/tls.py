"""Helpers for the trunk-over-TLS tests and bench: the box's TLS overlay, a provider call."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import free_port
from tests.integration.sip.peers.common import REPO, child_env
from tests.integration.sip.peers.tlsprovider import CertPair
from tests.integration.switchboard.box import Box

USER, PASSWORD = "clinic-trunk", "trunk-secret-7781"


def tls_overlay(port: int, ca_file: Path, **sip: Any) -> dict[str, Any]:
    return {
        "sip": {"tls": True, "tls_port": free_port(socket.SOCK_STREAM), **sip},
        "trunk": {
            "registrar": f"sip:localhost:{port}",
            "transport": "tls",
            "register": True,
            "username": USER,
            "password": PASSWORD,
            "provider_networks": ["127.0.0.1/32"],
            "tls_ca_file": str(ca_file),
        },
    }


def tls_port(b: Box) -> int:
    return int(tomllib.loads((b.dir / "settings.toml").read_text())["sip"]["tls_port"])


def provider_call(b: Box, pair: CertPair, srtp: str, hold_s: float = 3.0) -> dict[str, Any]:
    """The provider (a PJSUA2 process with its certificate) calls the clinic's number over TLS."""
    uri = f"sip:+12125550100@127.0.0.1:{tls_port(b)};transport=tls"
    done = subprocess.run(
        [sys.executable, "-m", "tests.integration.sip.peers.tls_caller", "--uri", uri, "--cert", str(pair.cert),
         "--key", str(pair.key), "--ca", str(b.dir / "tls" / "sip.crt"), "--srtp", srtp, "--hold", str(hold_s)],
        capture_output=True, text=True, timeout=60, env=child_env(), cwd=REPO, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"the TLS caller printed no result:\n{done.stderr[-3000:]}"
    return dict(json.loads(lines[-1]))


class TlsAnswerer:
    """The provider of an IP-authenticated TLS trunk: answers the box's one call (``tls_caller --answer``)."""

    def __init__(
        self, pair: CertPair, ca_file: Path, srtp: str = "mandatory", hold_s: float = 2.0, wait_s: float = 40.0
    ) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.sip.peers.tls_caller", "--answer", "--cert", str(pair.cert),
             "--key", str(pair.key), "--ca", str(ca_file), "--srtp", srtp, "--hold", str(hold_s), "--timeout", str(wait_s)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(), cwd=REPO,
        )  # fmt: skip
        assert self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline() or "{}")
        assert ready.get("event") == "ready", self.proc.stderr.read() if self.proc.stderr else ready
        self.port = int(ready["port"])

    def result(self, timeout: float = 60.0) -> dict[str, Any]:
        out, err = self.proc.communicate(timeout=timeout)
        lines = [line for line in out.splitlines() if line.startswith("{")]
        assert lines, f"the TLS provider printed no result:\n{err[-3000:]}"
        self.log = err
        return dict(json.loads(lines[-1]))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
