"""One contact policy for every message a patient gets (pure).

- :mod:`~appliance.contact.policy`: caps per day and week, quiet hours,
  opt-out and line type, as one :func:`decide`;
- :mod:`~appliance.contact.numbers`: mobile, landline, withheld, short code
  or emergency (phonenumbers);
- :mod:`~appliance.contact.keywords`: STOP, START and HELP in six
  languages, and the confirmations the law expects.

The rows (the message trace, consent) belong to :mod:`appliance.store.contacts`.
"""

from appliance.contact.keywords import HELP, START, STOP, answer, keyword
from appliance.contact.numbers import line_type
from appliance.contact.policy import CAPPED_KINDS, REASONS, Decision, Limits, Request, decide

__all__ = [
    "CAPPED_KINDS",
    "HELP",
    "REASONS",
    "START",
    "STOP",
    "Decision",
    "Limits",
    "Request",
    "answer",
    "decide",
    "keyword",
    "line_type",
]
