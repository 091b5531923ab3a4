"""Finding the provider's address again and again, off the PJSUA2 thread.

The box admits calls from the provider by address. With
``trunk.provider_networks`` empty that address comes from DNS, and DNS is
exactly what is missing after an offline boot (the internet comes back
later) or what moves when the provider renumbers. So the registrar's name
is resolved in this small thread — at start, whenever the trunk registers
successfully (:meth:`ProviderResolver.kick`), after a config reload, every
``every_s`` seconds while it resolves and every ``retry_s`` seconds while it
does not — and each answer is handed to the loop thread, which owns the
:class:`~appliance.switchboard.admission.Admission` rules. A failed lookup
keeps the last good addresses.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from appliance.errors import SwitchboardError
from appliance.switchboard.admission import Network, Resolver, resolve_host

log = logging.getLogger(__name__)

EVERY_S = 300.0  # re-resolve a working name this often (providers renumber rarely)
RETRY_S = 15.0  # while the name does not resolve (internet down), try again this often


class ProviderResolver:
    name = "provider resolver"

    def __init__(
        self,
        target: Callable[[], str],
        apply: Callable[[str, list[Network]], object],
        resolve: Resolver = resolve_host,
        *,
        every_s: float = EVERY_S,
        retry_s: float = RETRY_S,
    ) -> None:
        """
        Args:
            target: the host name to resolve now ('' = nothing to resolve).
            apply: receives ``(host, addresses)``; must only queue work for the loop thread.
            resolve: blocking name lookup; raises SwitchboardError when it fails.
        """
        self.target = target
        self.apply = apply
        self.resolve = resolve
        self.every_s = every_s
        self.retry_s = retry_s
        self.failing = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="provider-dns", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=3)

    def kick(self) -> None:
        """Resolve again now (any thread): the trunk registered, or the config changed."""
        self._wake.set()

    def resolve_once(self) -> bool:
        """One lookup; True when there was nothing to do or the answer was handed over."""
        host = self.target()
        if not host:
            self.failing = False
            return True
        try:
            networks = self.resolve(host)
        except SwitchboardError as exc:
            if not self.failing:
                log.warning("%s", exc)
            self.failing = True
            return False
        if self.failing:
            log.info("the trunk registrar %s resolves again", host)
        self.failing = False
        self.apply(host, networks)
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ok = self.resolve_once()
            except Exception:
                log.exception("resolving the provider's address failed")
                ok = False
            self._wake.wait(self.every_s if ok else self.retry_s)
            self._wake.clear()
