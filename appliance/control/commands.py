"""The core's command table: which service answers which control-socket command.

The composition root (:class:`appliance.app.Core`) builds one table and
hands it to the :class:`~appliance.control.server.ControlServer`; each
service registers the commands it owns (the switchboard its calls, agents
and night mode, the reminders their pause, the core the config reload and
the store unlock). The server answers ``ping``, ``status`` and
``subscribe`` itself; ``status`` and the pushed snapshots come from the
one snapshot source registered here.

Example:
    >>> table = CommandTable()
    >>> table.register("night_mode.set", lambda args: {"night_mode": bool(args["on"])})
    >>> table.handle(Request(1, "night_mode.set", {"on": True}))
    {'night_mode': True}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from appliance.control.protocol import COMMANDS, Request
from appliance.errors import ControlError

#: A command: its validated arguments in, its JSON-able result out; raises ClinicBoxError to refuse.
Command = Callable[[dict[str, Any]], Any]

#: What the server answers itself (see :meth:`ControlServer._serve`).
SERVER_COMMANDS = frozenset({"ping", "status", "subscribe"})


class CommandTable:
    """Command name → the service's function; the :class:`~appliance.control.server.Handler` the server calls."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._snapshot: Callable[[], dict[str, Any]] | None = None

    def register(self, name: str, command: Command) -> None:
        """Make ``command`` answer ``name``.

        Raises:
            ControlError: the protocol has no such command, the server answers
                it itself, or another service registered it already.
        """
        if name not in COMMANDS:
            raise ControlError(f"{name!r} is not a control command; add it to appliance.control.protocol.COMMANDS")
        if name in SERVER_COMMANDS:
            raise ControlError(f"{name!r} is answered by the control server itself")
        if name in self._commands:
            raise ControlError(f"control command {name!r} is registered twice")
        self._commands[name] = command

    def register_snapshot(self, source: Callable[[], dict[str, Any]]) -> None:
        """The box's state for ``status`` and subscribers (the switchboard's snapshot).

        Raises:
            ControlError: a snapshot source is registered already.
        """
        if self._snapshot is not None:
            raise ControlError("the control snapshot has a source already")
        self._snapshot = source

    def names(self) -> list[str]:
        return sorted(self._commands)

    # -- the server's Handler ---------------------------------------------------------
    def handle(self, request: Request) -> Any:
        command = self._commands.get(request.cmd)
        if command is None:
            raise ControlError(f"{request.cmd} is not supported by this box")
        return command(request.args)

    def snapshot(self) -> dict[str, Any]:
        return self._snapshot() if self._snapshot is not None else {}
