"""The gateway's serial PCM: frames from a real pty, the jitter buffer's bounds,
the voice route header and which ports the gateway agrees to open."""

from __future__ import annotations

import os
import time
import tty
from collections.abc import Iterator

import pytest

from appliance.errors import StationError
from appliance.station.pcmserial import SILENCE, SerialPcm
from appliance.station.voiceroute import (
    PCM_FRAME_BYTES,
    VoiceRoute,
    acceptable_port,
    format_header,
    parse_header,
)


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    yield master, path
    for fd in (master, slave):
        try:
            os.close(fd)
        except OSError:
            pass


def frame(n: int) -> bytes:
    return bytes([n % 256]) * PCM_FRAME_BYTES


def wait(check, timeout: float = 2.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_frames_in_are_cut_at_320_bytes_and_played_after_the_prefill(pty) -> None:  # type: ignore[no-untyped-def]
    master, path = pty
    pcm = SerialPcm(path, depth=8, prefill=2)
    pcm.open()
    try:
        assert pcm.pull() == SILENCE  # nothing yet
        os.write(master, frame(1) + frame(2)[:100])  # one frame and a piece
        wait(lambda: pcm.frames_in == 1)
        assert pcm.pull() == SILENCE  # one frame is below the prefill
        os.write(master, frame(2)[100:])
        wait(lambda: pcm.frames_in == 2)
        assert [pcm.pull(), pcm.pull()] == [frame(1), frame(2)]
        assert pcm.pull() == SILENCE and pcm.underruns == 1
    finally:
        pcm.close()


def test_the_jitter_buffer_is_bounded_dropping_the_oldest(pty) -> None:  # type: ignore[no-untyped-def]
    master, path = pty
    pcm = SerialPcm(path, depth=4, prefill=1)
    pcm.open()
    try:
        os.write(master, b"".join(frame(n) for n in range(10)))
        wait(lambda: pcm.frames_in == 10)
        assert [pcm.pull() for _ in range(4)] == [frame(n) for n in range(6, 10)]
        assert pcm.dropped == 6
    finally:
        pcm.close()


def test_frames_out_reach_the_port(pty) -> None:  # type: ignore[no-untyped-def]
    master, path = pty
    pcm = SerialPcm(path)
    pcm.open()
    try:
        for n in range(3):
            pcm.push(frame(n + 7))
        got = b""
        deadline = time.monotonic() + 2
        while len(got) < 3 * PCM_FRAME_BYTES and time.monotonic() < deadline:
            got += os.read(master, 4096)
        assert got == frame(7) + frame(8) + frame(9)
    finally:
        pcm.close()


def test_a_port_that_vanishes_is_reported(pty) -> None:  # type: ignore[no-untyped-def]
    master, path = pty
    pcm = SerialPcm(path)
    pcm.open()
    try:
        os.close(master)  # the modem's USB interface is gone
        wait(lambda: pcm.gone.is_set())
        assert pcm.gone_reason
        pcm.push(frame(1))  # ignored, no error
        assert pcm.pull() == SILENCE
    finally:
        pcm.close()


def test_a_missing_port_or_a_file_is_refused_with_a_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StationError, match="cannot open the modem's voice port"):
        SerialPcm(str(tmp_path / "ttyUSB9")).open()
    plain = tmp_path / "file"
    plain.write_bytes(b"")
    with pytest.raises(StationError, match="is not a serial port"):
        SerialPcm(str(plain)).open()


@pytest.mark.parametrize(
    ("value", "route"),
    [
        ("serial-pcm /dev/ttyUSB4", VoiceRoute("serial-pcm", "/dev/ttyUSB4")),
        ("uac", VoiceRoute("uac")),
        ("none", VoiceRoute("none")),
        ("", VoiceRoute()),
        ("bogus /dev/sda", VoiceRoute()),
        ("serial-pcm", VoiceRoute("serial-pcm", "")),
        ("serial-pcm /dev/ttyUSB4 extra", VoiceRoute("serial-pcm", "")),
    ],
)
def test_voice_header(value: str, route: VoiceRoute) -> None:
    assert parse_header(value) == route
    if route.route:
        assert parse_header(format_header(route)) == route


@pytest.mark.parametrize(
    ("path", "allow_pty", "ok"),
    [
        ("/dev/ttyUSB4", False, True),
        ("/dev/ttyACM0", False, True),
        ("/dev/serial/by-id/usb-SimTech__Incorporated_SimTech-if04-port0", False, True),
        ("/dev/pts/3", False, False),
        ("/dev/pts/3", True, True),
        ("/dev/serial/by-id/../../sda", False, False),
        ("/etc/shadow", True, False),
        ("/dev/sda", True, False),
        ("", True, False),
    ],
)
def test_which_voice_ports_the_gateway_opens(path: str, allow_pty: bool, ok: bool) -> None:
    assert acceptable_port(path, allow_pty=allow_pty) is ok


def test_close_soon_returns_at_once_and_the_port_is_closed_shortly_after(pty) -> None:  # type: ignore[no-untyped-def]
    """The gateway's PJSUA2 thread hangs up through close_soon: it must not wait for
    the reader's poll (0.1 s) or the writer to notice; the port still gets closed."""
    _, path = pty
    pcm = SerialPcm(path)
    pcm.open()
    started = time.perf_counter()
    pcm.close_soon()
    assert time.perf_counter() - started < 0.05
    wait(lambda: pcm._fd == -1)
