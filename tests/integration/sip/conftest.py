"""Fixtures for tests with real SIP peers on 127.0.0.1.

Each factory fixture starts as many peers as the test asks for and ends
them (only them) when the test ends, even when it fails. A missing Debian
package fails the test with the package to install: a skipped telephony
test would be a test that cannot fail.

    def test_call(sipua):
        callee = sipua(auto_answer=True)
        caller = sipua()
        cid = caller.call(callee.contact)
        caller.wait_state("CONFIRMED", cid)
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.sip.peers import (
    Baresip,
    Kamailio,
    SippScenario,
    SipUA,
    StationProc,
    write_station_config,
    write_tone_wav,
)

PACKAGES = {"sipp": "sip-tester", "baresip": "baresip-core", "kamailio": "kamailio", "svmap": "sipvicious"}


def need(program: str) -> None:
    """Fail (not skip) when a peer program is missing."""
    if shutil.which(program) is None and not Path(f"/usr/sbin/{program}").exists():
        pytest.fail(f"{program} is not installed: apt-get install {PACKAGES.get(program, program)} (make deps-test)")


@pytest.fixture
def peer_dir(tmp_path: Path) -> Path:
    """Where the peers of this test keep their logs, configs and recordings."""
    d = tmp_path / "peers"
    d.mkdir(exist_ok=True)
    return d


@pytest.fixture
def tone_wav(peer_dir: Path) -> Path:
    """Two seconds of a 440 Hz tone, 8 kHz mono: something a caller "says"."""
    return write_tone_wav(peer_dir / "tone.wav", seconds=2.0)


@pytest.fixture
def sipua(peer_dir: Path) -> Iterator[Callable[..., SipUA]]:
    """``sipua(**options)`` → a running :class:`SipUA` (options as its constructor)."""
    started: list[SipUA] = []

    def start(**options: Any) -> SipUA:
        options.setdefault("name", f"ua{len(started) + 1}")
        ua = SipUA(peer_dir, **options)
        started.append(ua)
        return ua

    yield start
    for ua in reversed(started):
        ua.close()


@pytest.fixture
def station_proc(peer_dir: Path) -> Iterator[Callable[..., StationProc]]:
    """``station_proc(config, station="desk1", core=uri, ...)`` → a running station program."""
    started: list[StationProc] = []

    def start(config: Path, **options: Any) -> StationProc:
        proc = StationProc(config, peer_dir, **options)
        started.append(proc)
        return proc

    yield start
    for proc in reversed(started):
        proc.stop()


@pytest.fixture
def station_config(tmp_path: Path) -> Callable[..., Path]:
    """``station_config({"desk1": {"password": "pw"}}, sip_port=...)`` → clinicbox.toml."""

    def make(
        stations: dict[str, dict[str, object]], sip_port: int = 5060, name: str = "clinic", simulate: bool = True
    ) -> Path:
        return write_station_config(tmp_path / name, stations, sip_port, simulate=simulate)

    return make


@pytest.fixture
def sipp(peer_dir: Path) -> Iterator[Callable[..., SippScenario]]:
    """``sipp(xml, target="127.0.0.1:PORT", ...)`` → a running :class:`SippScenario`."""
    need("sipp")
    started: list[SippScenario] = []

    def start(xml: str, **options: Any) -> SippScenario:
        run = SippScenario(xml, peer_dir / "sipp", **options)
        started.append(run)
        return run

    yield start
    for run in reversed(started):
        run.close()


@pytest.fixture
def baresip(peer_dir: Path) -> Iterator[Callable[..., Baresip]]:
    """``baresip(auto_answer=False, wav=None)`` → a running :class:`Baresip`."""
    need("baresip")
    started: list[Baresip] = []

    def start(**options: Any) -> Baresip:
        bs = Baresip(peer_dir / f"baresip{len(started) + 1}", **options)
        started.append(bs)
        return bs

    yield start
    for bs in reversed(started):
        bs.close()


@pytest.fixture
def kamailio(peer_dir: Path) -> Iterator[Kamailio]:
    """The provider on a free port; users ``trunk1``/``secret`` and ``caller``/``callerpw``."""
    need("kamailio")
    kam = Kamailio(peer_dir / "kamailio")
    yield kam
    kam.close()


@pytest.fixture
def scanner_home(peer_dir: Path) -> Path:
    """A private HOME for sipvicious's session files."""
    need("svmap")
    return peer_dir / "sipvicious"
