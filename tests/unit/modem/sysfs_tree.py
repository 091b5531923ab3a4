"""A fake sysfs and /dev tree laid out like the kernel and udev do for USB serial ports."""

from __future__ import annotations

from pathlib import Path


def add_port(
    root: Path, tty: str, *, usb: str, interface: int, vendor: str, product: str, serial: str, by_id: str = ""
) -> None:
    """One ttyUSB/ttyACM port on a USB device, as the kernel and udev lay it out."""
    device = root / "sys/devices/pci0000:00/usb1" / usb
    device.mkdir(parents=True, exist_ok=True)
    (device / "idVendor").write_text(vendor + "\n")
    (device / "idProduct").write_text(product + "\n")
    if serial:
        (device / "serial").write_text(serial + "\n")
    iface = device / f"{usb}:1.{interface}"
    port = iface / tty
    port.mkdir(parents=True, exist_ok=True)
    (iface / "bInterfaceNumber").write_text(f"{interface:02x}\n")
    cls = root / "sys/class/tty" / tty
    cls.mkdir(parents=True, exist_ok=True)
    (cls / "device").symlink_to(port)
    (root / "dev").mkdir(exist_ok=True)
    if by_id:
        folder = root / "dev/serial/by-id"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / by_id).symlink_to(f"../../{tty}")
