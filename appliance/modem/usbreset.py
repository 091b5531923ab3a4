"""Resetting the modem's USB port from an unprivileged core, through a root helper.

On the appliance the core runs as ``clinicbox`` with a read-only ``/sys``
and no capabilities, so it cannot unbind and re-bind the modem's USB
device itself. It asks instead: it atomically writes
``<run_dir>/usb-reset.request`` (JSON: the USB port id such as ``1-1.3``
and a random nonce) and waits, bounded, for ``<run_dir>/usb-reset.result``
carrying the same nonce. ``clinicbox-usb-reset.path`` starts the root
oneshot ``clinicbox-usb-reset.service`` when the request appears; it runs
``clinicbox modem usb-reset --serve-request``, i.e. :func:`serve_request`.

The helper trusts nothing in the request: the file must be a small
regular file (not a symlink), the port id must look like a USB port id,
exist under ``/sys/bus/usb/devices`` and be a known modem vendor's device
(and, when ``modem.usb_serial`` is set, carry that serial). Nothing from
the request is ever executed; the only effect is the unbind/bind write.
The request is always removed, so the path unit does not fire again.

Example:
    >>> request_reset(Path("/run/clinicbox"), "1-1.3", timeout_s=20)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ModemError
from appliance.modem.locate import MODEM_VENDORS

log = logging.getLogger(__name__)

REQUEST_FILE = "usb-reset.request"
RESULT_FILE = "usb-reset.result"
#: A request is a line of JSON; anything bigger is not ours.
MAX_REQUEST_BYTES = 512
PORT_ID = re.compile(r"\d+-\d+(\.\d+)*")  # fullmatch: "$" would let a newline through
_NONCE = re.compile(r"[0-9a-f]{16,64}")


class UsbResetError(ModemError):
    """A USB reset request was refused or could not be carried out."""


@dataclass(frozen=True)
class ResetResult:
    """What the helper answered: ``ok`` and a line saying what happened."""

    nonce: str
    ok: bool
    detail: str


def unbind_bind(sys_root: Path, port: str, delay_s: float) -> None:
    """Unbind the USB device ``port`` from the usb driver, wait, bind it again.

    Raises:
        OSError: sysfs refused a write (not root, read-only /sys, no such device).
    """
    driver = Path(sys_root) / "bus" / "usb" / "drivers" / "usb"
    (driver / "unbind").write_text(port)
    time.sleep(delay_s)
    (driver / "bind").write_text(port)


def can_write_sysfs(sys_root: Path) -> bool:
    """Whether this process may unbind/bind itself (root with a writable /sys)."""
    driver = Path(sys_root) / "bus" / "usb" / "drivers" / "usb"
    return all(os.access(driver / name, os.W_OK) for name in ("unbind", "bind"))


def _write_atomic(folder: Path, name: str, data: dict[str, object]) -> None:
    """Write ``folder/name`` through a fresh temp file and a rename.

    The temp file is created with O_EXCL|O_NOFOLLOW, and rename replaces
    a symlink at ``name`` instead of following it, so a planted link in a
    folder the other side owns cannot redirect the write.
    """
    tmp = folder / f".{name}.{secrets.token_hex(6)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(data) + "\n")
        os.replace(tmp, folder / name)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _read_small(path: Path) -> bytes:
    """A small regular file's bytes, refusing symlinks, devices, fifos and big files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symlink
            raise UsbResetError(f"{path} is a symlink; refused") from exc
        raise UsbResetError(f"cannot open {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsbResetError(f"{path} is not a regular file; refused")
        if info.st_size > MAX_REQUEST_BYTES:
            raise UsbResetError(f"{path} is {info.st_size} bytes (at most {MAX_REQUEST_BYTES}); refused")
        return f.read(MAX_REQUEST_BYTES + 1)


def request_reset(run_dir: Path, port: str, timeout_s: float = 20.0, poll_s: float = 0.1) -> str:
    """Ask the root helper to reset USB port ``port``; return its answer line.

    Raises:
        UsbResetError: the helper refused or failed, or did not answer within
            ``timeout_s`` (then the request is withdrawn).
    """
    if not PORT_ID.fullmatch(port):
        raise UsbResetError(f"{port!r} is not a USB port id like 1-1.3")
    run_dir = Path(run_dir)
    nonce = secrets.token_hex(16)
    with contextlib.suppress(FileNotFoundError):
        (run_dir / RESULT_FILE).unlink()
    try:
        _write_atomic(run_dir, REQUEST_FILE, {"port": port, "nonce": nonce})
    except OSError as exc:
        raise UsbResetError(f"cannot write the USB reset request in {run_dir}: {exc.strerror}") from exc
    log.info("asked the USB reset helper to reset %s", port)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        result = read_result(run_dir)
        if result is not None and result.nonce == nonce:
            with contextlib.suppress(OSError):
                (run_dir / RESULT_FILE).unlink()
            if not result.ok:
                raise UsbResetError(f"the USB reset helper refused or failed: {result.detail}")
            return result.detail
        time.sleep(poll_s)
    with contextlib.suppress(OSError):
        (run_dir / REQUEST_FILE).unlink()
    raise UsbResetError(
        f"no answer from the USB reset helper within {timeout_s:g} s; "
        "check `systemctl status clinicbox-usb-reset.path`, or unplug and replug the modem"
    )


def read_result(run_dir: Path) -> ResetResult | None:
    """The helper's current answer, or None while there is none (or it is unreadable)."""
    try:
        data = json.loads(_read_small(Path(run_dir) / RESULT_FILE))
    except (UsbResetError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    return ResetResult(str(data.get("nonce", "")), data.get("ok") is True, str(data.get("detail", "")))


def parse_request(raw: bytes) -> tuple[str, str]:
    """(port, nonce) from a request's bytes.

    Raises:
        UsbResetError: not JSON, missing fields, or a field of the wrong shape.
    """
    try:
        data = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsbResetError("the request is not ASCII JSON") from exc
    if not isinstance(data, dict) or set(data) != {"port", "nonce"}:
        raise UsbResetError("the request must hold exactly 'port' and 'nonce'")
    port, nonce = data["port"], data["nonce"]
    if not isinstance(nonce, str) or not _NONCE.fullmatch(nonce):
        raise UsbResetError("the request's nonce is not 16-64 hex digits")
    if not isinstance(port, str) or not PORT_ID.fullmatch(port):
        raise UsbResetError(f"{str(port)[:40]!r} is not a USB port id like 1-1.3")
    return port, nonce


def check_modem_port(sys_root: Path, port: str, usb_serial: str = "") -> str:
    """Confirm ``port`` is a present USB device of a known modem vendor; return a description.

    Raises:
        UsbResetError: the port is absent, not a modem, or not the configured one.
    """
    if not PORT_ID.fullmatch(port):
        raise UsbResetError(f"{port!r} is not a USB port id like 1-1.3")
    device = Path(sys_root) / "bus" / "usb" / "devices" / port
    if not device.exists():
        raise UsbResetError(f"no USB device {port} in {device.parent}")

    def attr(name: str) -> str:
        try:
            return (device / name).read_text(encoding="ascii", errors="replace").strip()
        except OSError:
            return ""

    vendor = attr("idVendor").lower()
    if vendor not in MODEM_VENDORS:
        raise UsbResetError(f"USB device {port} (vendor {vendor or 'unknown'}) is not a known modem; refused")
    if usb_serial and attr("serial") != usb_serial:
        raise UsbResetError(f"USB device {port} is not the configured modem (modem.usb_serial); refused")
    return f"{MODEM_VENDORS[vendor]} {vendor}:{attr('idProduct').lower()}"


def serve_request(run_dir: Path, sys_root: Path, usb_serial: str = "", delay_s: float = 2.0) -> ResetResult:
    """Carry out the pending request (root side); always answer and remove it.

    Returns the answer written to the result file. A request that cannot be
    read at all (symlink, oversized, garbage) is answered with an empty
    nonce, which the core's wait ignores; it then times out.
    """
    run_dir = Path(run_dir)
    request = run_dir / REQUEST_FILE
    nonce = ""
    try:
        port, nonce = parse_request(_read_small(request))
        what = check_modem_port(sys_root, port, usb_serial)
        try:
            unbind_bind(sys_root, port, delay_s)
        except OSError as exc:
            raise UsbResetError(f"unbind/bind of {port} failed: {exc.strerror or exc}") from exc
        result = ResetResult(nonce, True, f"{what} on USB {port} unbound and bound again")
        log.warning("modem USB device %s (%s) unbound and bound again on request", port, what)
    except UsbResetError as exc:
        result = ResetResult(nonce, False, str(exc))
        log.warning("USB reset request refused: %s", exc)
    finally:
        with contextlib.suppress(FileNotFoundError):
            request.unlink()
    _write_atomic(run_dir, RESULT_FILE, {"nonce": result.nonce, "ok": result.ok, "detail": result.detail})
    return result
