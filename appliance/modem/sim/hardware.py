"""The shipped fake as the driver and the service see it.

:class:`SimulatedHardware` implements the port
:class:`appliance.modem.ModemHardware` for the simulator on its pty (a
power cycle re-enumerates it on a new pty). :class:`Simulation`
implements :class:`appliance.modem.ModemSimulation`: what the modem
service starts and stops with itself in simulate mode (the pty, the
adapter, the control socket the demo and tests ring it through). A
composition root builds it, with :meth:`Simulation.for_config`.

Example:
    >>> sim = Simulation.for_config(cfg)                                 # doctest: +SKIP
    >>> svc = ModemService(cfg, bus, store, clock, simulator=sim)        # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from appliance.config import Config
from appliance.modem import ModemHardware
from appliance.modem.sim.control import ControlServer
from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator

#: The USB vendor ids the simulated profiles would enumerate with.
_VENDORS = {"ec25": "2c7c", "sim7600": "1e0e", "e173": "12d1", "le910": "1bc7"}


class SimulatedHardware:
    """The simulator on a pty; a power cycle re-enumerates it on a new pty."""

    def __init__(self, simulator: PtySimulator) -> None:
        self.simulator = simulator

    def ports(self) -> list[str]:
        path = self.simulator.path
        return [path] if path and Path(path).exists() else []

    def power_cycle(self) -> None:
        self.simulator.usb_reset()

    def remember(self, device: str) -> None:
        pass

    def usb_vendor(self) -> str:
        return _VENDORS.get(self.simulator.modem.state.profile, "")

    def voice_port(self, interface: int) -> str:
        """The simulator's voice pty (SIMCom and Huawei profiles), whatever the interface."""
        voice = self.simulator.voice
        return voice.path if voice is not None and voice.path else ""

    def describe(self) -> str:
        return f"simulated {self.simulator.modem.state.profile} on {self.simulator.path}"


class Simulation:
    """The simulator as the modem service runs it: its pty, its adapter, its control socket.

    Args:
        pty: the simulator on its pty (tests pass one to script faults).
        control: where to listen for control commands once started
            (``None``: no control socket).
    """

    def __init__(self, pty: PtySimulator, control: Path | None = None) -> None:
        self.pty = pty
        self.control = control
        self._hardware = SimulatedHardware(pty)
        self._server: ControlServer | None = None

    @classmethod
    def for_config(cls, cfg: Config, pty: PtySimulator | None = None) -> Simulation:
        """The core's simulator: ``modem.simulator_profile`` and ``modem.pin``, its pty
        linked at ``<run_dir>/modem-sim.tty``, its control socket ``<run_dir>/modem-sim.sock``."""
        if pty is None:
            fake = ModemSimulator(profile=cfg.modem.simulator_profile, pin=cfg.modem.pin)
            pty = PtySimulator(fake, link=cfg.paths.run_dir / "modem-sim.tty")
        return cls(pty, control=cfg.paths.run_dir / "modem-sim.sock")

    @property
    def hardware(self) -> ModemHardware:
        return self._hardware

    def start(self) -> None:
        """Start the pty and the control socket, unless the pty already runs (then neither)."""
        if self.pty.path:
            return
        self.pty.start()
        if self.control is not None:
            # The demo and tests ring the simulated modem and send it SMS through this socket.
            self._server = ControlServer(self.pty, self.control)
            self._server.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.pty.stop()

    def set_power(self, on: bool) -> None:
        self.pty.set_power(on)
