"""The real modem hardware: a USB modem, where its AT port is, how to power-cycle it.

:class:`UsbModemHardware` implements the port
:class:`appliance.modem.ModemHardware` (the package's face). It finds
ports through sysfs and resets the modem by unbinding and re-binding its
USB device (what unplugging and plugging it back does, without a
technician) - itself when it may write sysfs (development), else through
the root helper (the appliance). The shipped fake,
:class:`appliance.modem.sim.SimulatedHardware`, does the same to the
simulator on its pty; a composition root chooses between them from config
(``modem.simulate`` or the global ``simulate``), and tests can pass their
own object with the port's methods.
"""

from __future__ import annotations

import logging
from pathlib import Path

from appliance.config.modem import ModemSettings
from appliance.errors import ModemError
from appliance.modem.locate import PortCandidate, SysfsLocator
from appliance.modem.usbreset import can_write_sysfs, request_reset, unbind_bind

log = logging.getLogger(__name__)


class UsbModemHardware:
    """A USB modem found in sysfs (or a fixed ``modem.port``).

    Args:
        settings: the ``[modem]`` section.
        locator: lists ports; its roots are replaceable for tests.
        sys_root: where ``bus/usb/drivers/usb/{unbind,bind}`` live.
        run_dir: the core's runtime folder; when set and this process cannot
            write sysfs itself (the appliance), the reset is requested from
            the root helper there (:mod:`appliance.modem.usbreset`).
        helper_timeout_s: how long to wait for the helper's answer.
    """

    def __init__(
        self,
        settings: ModemSettings,
        locator: SysfsLocator | None = None,
        sys_root: Path = Path("/sys"),
        rebind_delay_s: float = 2.0,
        run_dir: Path | None = None,
        helper_timeout_s: float = 20.0,
    ) -> None:
        self.settings = settings
        self.locator = locator or SysfsLocator(sys_root)
        self.sys_root = Path(sys_root)
        self.rebind_delay_s = rebind_delay_s
        self.run_dir = run_dir
        self.helper_timeout_s = helper_timeout_s
        self._last: PortCandidate | None = None

    def ports(self) -> list[str]:
        if self.settings.port:
            return [self.settings.port]
        found = self.locator.matching(self.settings.usb_serial, self.settings.usb_interface)
        if found:
            self._last = found[0]
        return [c.device for c in found]

    def candidate_for(self, device: str) -> PortCandidate | None:
        for c in self.locator.candidates():
            if c.device == device or c.tty == Path(device).name:
                return c
        return None

    def remember(self, device: str) -> None:
        """Note which port turned out to be the modem (its USB device is the one to reset)."""
        self._last = self.candidate_for(device) or self._last

    def usb_vendor(self) -> str:
        """The modem's USB vendor id ("2c7c"), "" when not known (a fixed ``modem.port``)."""
        return self._last.vendor if self._last is not None else ""

    def voice_port(self, interface: int) -> str:
        """The modem's serial port on USB ``interface`` (its voice PCM port), or ""."""
        if self.settings.voice_port:
            return self.settings.voice_port
        last = self._last
        if last is None:
            return ""
        for c in self.locator.candidates():
            if c.usb_device == last.usb_device and c.interface == interface:
                return c.device
        return ""

    def power_cycle(self) -> None:
        if not self.settings.usb_reset:
            raise ModemError("USB reset is disabled (modem.usb_reset = false)")
        target = self._last
        if target is None and self.settings.port:
            target = self.candidate_for(str(Path(self.settings.port).resolve()))
        if target is None:
            raise ModemError("cannot tell which USB device the modem is; set modem.usb_serial")
        if self.run_dir is not None and not can_write_sysfs(self.sys_root):
            # The appliance: no root, read-only /sys. The root helper does it.
            detail = request_reset(self.run_dir, target.usb_device, timeout_s=self.helper_timeout_s)
            log.warning("modem USB reset by the helper: %s", detail)
            return
        try:
            unbind_bind(self.sys_root, target.usb_device, self.rebind_delay_s)
        except OSError as exc:
            raise ModemError(
                f"USB reset of {target.usb_device} failed ({exc}); the core needs root or the "
                "clinicbox-usb-reset helper, or unplug and replug the modem"
            ) from exc
        log.warning("modem USB device %s unbound and bound again", target.usb_device)

    def describe(self) -> str:
        if self.settings.port:
            return f"port {self.settings.port}"
        c = self._last
        if c is None:
            return "no modem found yet"
        return f"{c.maker} {c.vendor}:{c.product} on USB {c.usb_device} interface {c.interface} ({c.device})"
