"""The headset station: a small PJSUA2 endpoint owning one audio device,
reached by the core over SIP. :mod:`appliance.station.protocol` is how the
two authenticate each other."""
