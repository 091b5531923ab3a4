"""Missed-call text-back, and the contact rules' runtime (STOP/START/HELP, the message trace).

A caller the clinic missed (hung up while waiting, got busy or overflow,
or called while closed; left no voicemail and asked for no callback) gets
one SMS through the modem, in their language, within a minute; a "yes"
puts a callback on the list. Every rule of :mod:`appliance.contact` applies.
"""

from appliance.textback.service import TextBackService
from appliance.textback.wording import TEXTS, language_for, text

__all__ = ["TEXTS", "TextBackService", "language_for", "text"]
