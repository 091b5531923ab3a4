"""The control socket: how the web UI, ``clinicbox doctor`` and scripts talk
to the running core. See :mod:`appliance.control.protocol` for the format,
and :mod:`appliance.control.commands` for the table of who answers what."""

from appliance.control.client import CommandRefused, ControlClient
from appliance.control.commands import Command, CommandTable
from appliance.control.peers import PeerCred, PeerPolicy
from appliance.control.protocol import COMMANDS, VERSION, ProtocolError, Request
from appliance.control.server import ControlServer, Handler

__all__ = [
    "COMMANDS",
    "VERSION",
    "Command",
    "CommandRefused",
    "CommandTable",
    "ControlClient",
    "ControlServer",
    "Handler",
    "PeerCred",
    "PeerPolicy",
    "ProtocolError",
    "Request",
]
