"""Finding the modem's AT port by what it is, not by what it was called.

``/dev/ttyUSB2`` becomes ``/dev/ttyUSB5`` after a USB reset, and the
order of a modem's ports changes with the kernel's mood. The USB serial
number, the interface number and the IMEI do not. :class:`SysfsLocator`
lists serial ports from sysfs (``/sys/class/tty``) and udev's
``/dev/serial/by-id`` links with the USB facts about each; the service
then confirms the IMEI over AT. The roots are parameters so tests build a
fake sysfs tree in a temporary folder.

Example:
    >>> loc = SysfsLocator(Path("/sys"), Path("/dev"))            # doctest: +SKIP
    >>> [c.device for c in loc.matching(usb_serial="", interface=2)]  # doctest: +SKIP
    ['/dev/serial/by-id/usb-Quectel_EC25_0123-if02-port0']
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

#: USB vendor ids of the modem families ClinicBox knows (Quectel, SIMCom, Huawei, Sierra, Telit).
MODEM_VENDORS = {"2c7c": "Quectel", "1e0e": "SIMCom", "12d1": "Huawei", "1199": "Sierra", "1bc7": "Telit"}


@dataclass(frozen=True)
class PortCandidate:
    """One serial port and the USB device behind it."""

    device: str  # the path to open (by-id link when there is one)
    tty: str  # ttyUSB2
    usb_device: str  # sysfs name of the USB device ("1-1.3"), for unbind/bind
    usb_serial: str
    vendor: str
    product: str
    interface: int  # bInterfaceNumber, -1 if unknown

    @property
    def maker(self) -> str:
        return MODEM_VENDORS.get(self.vendor, self.vendor or "unknown")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


class SysfsLocator:
    """Lists USB serial ports with their USB identity."""

    def __init__(self, sys_root: Path = Path("/sys"), dev_root: Path = Path("/dev")) -> None:
        self.sys_root = Path(sys_root)
        self.dev_root = Path(dev_root)

    def candidates(self) -> list[PortCandidate]:
        """Every ttyUSB/ttyACM port that sits on a USB device, modems first."""
        by_id = self._by_id()
        found = []
        tty_dir = self.sys_root / "class" / "tty"
        for entry in sorted(tty_dir.glob("tty*")):
            name = entry.name
            if not name.startswith(("ttyUSB", "ttyACM")):
                continue
            device_link = entry / "device"
            if not device_link.exists():
                continue
            interface_dir, usb_dir = self._usb_dirs(device_link.resolve())
            if usb_dir is None:
                continue
            number = _read(interface_dir / "bInterfaceNumber") if interface_dir else ""
            found.append(
                PortCandidate(
                    device=by_id.get(name, str(self.dev_root / name)),
                    tty=name,
                    usb_device=usb_dir.name,
                    usb_serial=_read(usb_dir / "serial"),
                    vendor=_read(usb_dir / "idVendor").lower(),
                    product=_read(usb_dir / "idProduct").lower(),
                    interface=int(number, 16) if number else -1,
                )
            )
        found.sort(key=lambda c: (c.vendor not in MODEM_VENDORS, c.usb_device, c.interface, c.tty))
        return found

    def matching(self, usb_serial: str = "", interface: int = -1) -> list[PortCandidate]:
        """Candidates with this USB serial (empty = any) on this interface (-1 = any)."""
        return [
            c
            for c in self.candidates()
            if (not usb_serial or c.usb_serial == usb_serial) and (interface < 0 or c.interface == interface)
        ]

    def _by_id(self) -> dict[str, str]:
        """tty name → its /dev/serial/by-id link (a stable name to open)."""
        out: dict[str, str] = {}
        folder = self.dev_root / "serial" / "by-id"
        with contextlib.suppress(OSError):
            for link in sorted(folder.iterdir()):
                with contextlib.suppress(OSError):
                    target = Path(link.parent, link.readlink()) if link.is_symlink() else link
                    out[target.name] = str(link)
        return out

    @staticmethod
    def _usb_dirs(start: Path) -> tuple[Path | None, Path | None]:
        """Walk up from a tty's device to its USB interface and USB device."""
        interface: Path | None = None
        node = start
        for _ in range(8):
            if interface is None and (node / "bInterfaceNumber").exists():
                interface = node
            if (node / "idVendor").exists():
                return interface, node
            if node.parent == node:
                break
            node = node.parent
        return interface, None
