"""The serial link to the modem: open a port URL, one reader thread.

``serial.serial_for_url`` takes a device path (``/dev/serial/by-id/...``,
a pty made by the simulator) or a URL (``loop://`` in tests), so every
test runs the same code as the appliance. The reader thread hands raw
bytes to a callback and reports when the port goes away (a USB modem
that resets disappears from under its file descriptor).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import serial

from appliance.errors import ModemError, ModemNotFoundError

log = logging.getLogger(__name__)

OnData = Callable[[bytes], None]
OnClosed = Callable[[Exception | None], None]


class PortBusyError(ModemError):
    """Another process (normally the running ClinicBox core) holds the port."""


class SerialTransport:
    """One open serial port and its reader thread.

    Args:
        url: device path or pyserial URL.
        baudrate: ignored by USB modems and ptys, honoured by real UARTs.
        exclusive: take an advisory lock so a second ClinicBox process
            (``clinicbox modem status`` while the core runs) is refused
            instead of stealing the answers.
    """

    def __init__(self, url: str, baudrate: int = 115200, *, exclusive: bool = True) -> None:
        self.url = url
        self.baudrate = baudrate
        self.exclusive = exclusive
        self._port: serial.SerialBase | None = None
        self._reader: threading.Thread | None = None
        self._closing = threading.Event()
        self._write_lock = threading.Lock()

    def open(self, on_data: OnData, on_closed: OnClosed) -> None:
        """Open the port and start reading.

        Raises:
            PortBusyError: another process has the port locked.
            ModemNotFoundError: the device does not exist or cannot be opened.
        """
        kwargs: dict[str, object] = {"baudrate": self.baudrate, "timeout": 0.2, "write_timeout": 5}
        if self.exclusive and "://" not in self.url:
            kwargs["exclusive"] = True
        try:
            port = serial.serial_for_url(self.url, **kwargs)
        except (serial.SerialException, OSError, ValueError) as exc:
            text = str(exc)
            if "exclusively lock" in text or "Resource temporarily unavailable" in text:
                raise PortBusyError(
                    f"the modem port {self.url} is in use by another process (normally the running ClinicBox core)"
                ) from exc
            raise ModemNotFoundError(
                f"cannot open the modem port {self.url}: {text}; check the cable and modem.port"
            ) from exc
        self._port = port
        self._closing.clear()
        self._reader = threading.Thread(
            target=self._read_loop, args=(port, on_data, on_closed), name="modem-reader", daemon=True
        )
        self._reader.start()

    @property
    def is_open(self) -> bool:
        return self._port is not None and self._reader is not None and self._reader.is_alive()

    def write(self, data: bytes) -> None:
        """Send bytes; raises ModemError if the port is closed or gone."""
        port = self._port
        if port is None:
            raise ModemError("the modem port is not open")
        with self._write_lock:
            try:
                port.write(data)
                port.flush()
            except (serial.SerialException, OSError) as exc:
                raise ModemError(f"writing to the modem failed: {exc}") from exc

    def close(self) -> None:
        self._closing.set()
        port, self._port = self._port, None
        reader, self._reader = self._reader, None
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=2)
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                log.debug("closing the modem port raised", exc_info=True)

    def _read_loop(self, port: serial.SerialBase, on_data: OnData, on_closed: OnClosed) -> None:
        error: Exception | None = None
        while not self._closing.is_set():
            try:
                data = port.read(max(1, port.in_waiting))
            except (serial.SerialException, OSError, TypeError, AttributeError) as exc:
                if not self._closing.is_set():
                    error = exc
                break
            if data:
                try:
                    on_data(data)
                except Exception:  # the reader must survive a bad handler
                    log.exception("modem data handler failed")
        if not self._closing.is_set():
            log.warning("modem port %s closed: %s", self.url, error)
        on_closed(error)
