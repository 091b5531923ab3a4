"""The GSM gateway's serial-PCM voice: the modem's voice port bridged to a call.

:class:`SerialVoicePort` is a conference-bridge port (the engine's
backported ``AudioMediaPort``) whose frames come from and go to a
:class:`~appliance.station.pcmserial.SerialPcm`. Its callbacks run on
PJMEDIA's clock thread and only touch the PCM buffers. :class:`SerialVoice`
wires it to one call and unwires it; it is used on the gateway's loop thread,
the only thread that touches PJSUA2 objects.

Example:
    >>> voice = SerialVoice("/dev/ttyUSB4", keep=rt.keep, drop=rt.drop)  # doctest: +SKIP
    >>> voice.attach(call.audio)                                        # doctest: +SKIP
    >>> if voice.gone: call.hangup(...)                                 # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pjsua2 as pj

from appliance.station.media import destroy_port
from appliance.station.pcmserial import SILENCE, SerialPcm
from appliance.station.voiceroute import PCM_FRAME_MS, PCM_RATE

log = logging.getLogger(__name__)


class SerialVoicePort(pj.AudioMediaPort):  # type: ignore[misc]
    """Frames to and from the modem's voice port (8 kHz, 16-bit mono, 20 ms)."""

    def __init__(self, pcm: SerialPcm) -> None:
        super().__init__()
        self._pcm = pcm
        fmt = pj.MediaFormatAudio()
        fmt.init(pj.PJMEDIA_FORMAT_PCM, PCM_RATE, 1, PCM_FRAME_MS * 1000, 16)
        self.createPort("gsm-serial-voice", fmt)

    def onFrameRequested(self, frame: Any) -> None:
        data = self._pcm.pull()
        frame.type = pj.PJMEDIA_FRAME_TYPE_AUDIO
        frame.buf = pj.ByteVector(data)
        frame.size = len(data)

    def onFrameReceived(self, frame: Any) -> None:
        data = frame.pcm() if frame.type == pj.PJMEDIA_FRAME_TYPE_AUDIO else b""
        self._pcm.push(data if len(data) == len(SILENCE) else SILENCE)  # the modem expects a steady stream


class SerialVoice:
    """One call's voice over the modem's serial port (gateway loop thread only).

    Args:
        path: the voice port the core named for this call.
        keep, drop: the runtime's object keeping (the port must outlive its
            use by the media clock; it is released at the next poll).
    """

    def __init__(self, path: str, *, keep: Callable[[Any], Any], drop: Callable[[Any], None]) -> None:
        self.pcm = SerialPcm(path)
        self._keep = keep
        self._drop = drop
        self._port: SerialVoicePort | None = None
        self._audio: Any = None

    @property
    def gone(self) -> bool:
        return self.pcm.gone.is_set()

    def attach(self, call_audio: Any) -> None:
        """Open the port and connect it both ways to the call.

        Raises:
            StationError: the port cannot be opened.
            pj.Error: the bridge refused the connection.
        """
        self.pcm.open()
        port = self._keep(SerialVoicePort(self.pcm))
        self._port, self._audio = port, call_audio
        port.startTransmit(call_audio)
        call_audio.startTransmit(port)

    def detach(self) -> None:
        """Disconnect and close (safe to call twice, and after the call's media went)."""
        port, audio = self._port, self._audio
        self._port = self._audio = None
        if port is not None:
            for src, dst in ((port, audio), (audio, port)):
                try:
                    if src is not None and dst is not None:
                        src.stopTransmit(dst)
                except pj.Error:
                    pass  # the call's media is already gone
            destroy_port(port)  # leave the bridge while the Python object is whole
            self._drop(port)
        self.pcm.close_soon()
