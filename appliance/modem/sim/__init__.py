"""The shipped fake modem: a scripted GSM/LTE modem on a pty, for tests, the demo and dry runs.

Only composition roots (``appliance.app``, the CLI, the demo) and tests
import this package; the driver and the service take it through the ports
in :mod:`appliance.modem` (``ModemHardware``, ``ModemSimulation``), so a
production core never loads it.

Modules: :mod:`.simulator` (the firmware: AT in, answers and URCs out),
:mod:`.state` (its settings, SIM, network, storage and calls),
:mod:`.commands` (general commands), :mod:`.voice` (the voice line),
:mod:`.audio` (each family's voice-path commands), :mod:`.voiceport` (the
serial-PCM families' voice port on a second pty),
:mod:`.smsc` (TS 27.005 commands, the SIM's message store and the
network's SMS centre), :mod:`.ptydevice` (the simulator on a pty, the way
a USB modem appears), :mod:`.control` (its JSON control socket),
:mod:`.hardware` (:class:`SimulatedHardware` and :class:`Simulation`).
"""

from __future__ import annotations

from appliance.modem.sim.control import ControlServer
from appliance.modem.sim.hardware import SimulatedHardware, Simulation
from appliance.modem.sim.ptydevice import PtySimulator
from appliance.modem.sim.simulator import ModemSimulator

__all__ = ["ControlServer", "ModemSimulator", "PtySimulator", "SimulatedHardware", "Simulation"]
