"""The PJSUA2 switchboard: trunk, IVR, queue, stations, voicemail, callbacks.

:class:`SwitchboardService` is what the core runs. Inside: one thread owns
PJSUA2 (:mod:`~appliance.switchboard.loop`), a controller drives the pure
IVR and ACD state machines (:mod:`~appliance.switchboard.controller`),
stations and agent legs (:mod:`~appliance.switchboard.agents`), calls the box
places (:mod:`~appliance.switchboard.outbound`), encrypted voicemail and
recording (:mod:`~appliance.switchboard.voicemail`), the store writer and
caller-ID lookup threads, the trunk monitor and the control handler.
"""

from appliance.switchboard.capacity import Capacity
from appliance.switchboard.service import SwitchboardService

__all__ = ["Capacity", "SwitchboardService"]
