"""The headset station: a small PJSUA2 endpoint owning one audio device,
reached by the core over SIP. ``clinicbox station`` and ``clinicbox
gsm-gateway`` run it.

* :mod:`~appliance.station.protocol`: how core and stations trust each other (pure).
* :mod:`~appliance.station.guard`: what a station lets through, and its ring state (pure).
* :mod:`~appliance.station.options`, :mod:`~appliance.station.alsa`:
  who it is and which sound card (pure); SIP text is read by :mod:`appliance.sip`.
* :mod:`~appliance.station.endpoint`, :mod:`~appliance.station.media`: the
  one-thread PJSUA2 runtime and tones/level meter (shared with the demo's sipua).
* :mod:`~appliance.station.agent`: the program itself.

Nothing PJSUA2 is imported here, so ``from appliance.station import protocol``
stays cheap for the core.
"""
