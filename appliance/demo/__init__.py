"""The demo box: a seeded clinic, its processes run together, simulated traffic.

``clinicbox demo`` (:mod:`appliance.cli.demo`) seeds a clinic (:mod:`.seed`)
and runs the box's real processes under :mod:`.supervisor`, with callers
and a mobile network simulated by :mod:`.traffic`, :mod:`.sipua` and
:mod:`.mobile`. Like the composition roots, it may use the shipped fakes.
"""
