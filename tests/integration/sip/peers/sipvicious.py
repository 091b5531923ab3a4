"""sipvicious (svmap, svwar): the scanner every box on the internet meets.

Both bind 0.0.0.0:5060 unless told otherwise, so they get ``-P`` (a free
source port) and ``-b 127.0.0.1``; their session files go to a private
HOME so runs never see each other's results.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.integration.sip.peers.common import free_port

_ROW = re.compile(r"^\|\s*(.*?)\s*\|\s*(.*?)\s*\|$")


@dataclass(frozen=True)
class ScanResult:
    returncode: int
    rows: list[tuple[str, str]]  # the result table: (device or extension, user agent or auth)
    output: str


def _table(text: str) -> list[tuple[str, str]]:
    rows = [m.groups() for m in map(_ROW.match, text.splitlines()) if m]
    return [(a, b) for a, b in rows[1:]] if rows else []  # skip the header row


def _run(argv: list[str], home: Path, timeout: float) -> ScanResult:
    home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": str(home)}, check=False
    )
    return ScanResult(proc.returncode, _table(proc.stdout), proc.stdout + proc.stderr)


def svmap(
    port: int, home: Path, *, method: str = "OPTIONS", timeout: float = 30.0, bind: str = "127.0.0.1"
) -> ScanResult:
    """Fingerprint whatever listens on 127.0.0.1:``port`` from ``bind`` (rows: device, User-Agent)."""
    argv = ["svmap", "-p", str(port), "-P", str(free_port()), "-b", bind, "-m", method, "127.0.0.1"]
    return _run(argv, home, timeout)


def svwar(
    port: int,
    home: Path,
    *,
    extensions: str = "100-110",
    method: str = "REGISTER",
    force: bool = False,
    timeout: float = 60.0,
    bind: str = "127.0.0.1",
) -> ScanResult:
    """Enumerate extensions on 127.0.0.1:``port`` (rows: extension, authentication).

    svwar first sends one request for a random extension and gives up when
    the answer looks like every other answer will (a 403 to all, say);
    ``force`` makes it try every extension anyway.
    """
    argv = ["svwar", "-p", str(port), "-P", str(free_port()), "-b", bind, "-e", extensions, "-m", method]
    if force:
        argv.append("--force")
    return _run([*argv, "127.0.0.1"], home, timeout)


def svcrack(
    port: int,
    home: Path,
    *,
    user: str = "desk1",
    passwords: str = "1-30",
    timeout: float = 60.0,
    bind: str = "127.0.0.1",
) -> ScanResult:
    """Guess ``user``'s password on 127.0.0.1:``port`` by REGISTER digests (rows: extension, password found).

    Against silence it gives up after ``--maximumtime`` seconds without an answer.
    """
    argv = ["svcrack", "-p", str(port), "-P", str(free_port()), "-b", bind, "-u", user, "-r", passwords]
    return _run([*argv, "--maximumtime", "5", "127.0.0.1"], home, timeout)
