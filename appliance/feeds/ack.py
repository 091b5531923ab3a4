"""HL7 acknowledgements (original mode): MSH + MSA (+ ERR), echoing the sender's version and control ID.

``AA`` the message was applied (or was applied before: a replay), ``AE``
its content is wrong, ``AR`` it was refused as a whole (envelope, type,
version, size). An ERR segment names the field at fault in both the
v2.3 way (ERR-1, ``SEG^1^field``) and the v2.5+ way (ERR-2 location,
ERR-3 table 0357 code, ERR-4 severity, ERR-8 the reason). Pure.
"""

from __future__ import annotations

import itertools
import re
from datetime import datetime

from appliance.feeds.model import ERROR_NAMES, Header

_SAFE = re.compile(r"[|^~\\&\r\n]")
_counter = itertools.count(1)
_LOCATION = re.compile(r"^([A-Z0-9]{3})(?:-(\d+)(?:\.(\d+))?)?$")


def _clean(text: str) -> str:
    return _SAFE.sub(" ", text)[:200]


def build(
    head: Header | None,
    code: str,
    *,
    application: str,
    now: datetime,
    error: tuple[str, str, str] | None = None,
    severity: str = "E",
) -> str:
    """The acknowledgement text (segments separated by CR, no framing).

    Args:
        head: the message's MSH, or None when it could not be read (the ACK
            then carries no control ID and version 2.5).
        code: AA, AE or AR.
        application: MSH-3 of the acknowledgement.
        error: (location like ``SCH-11.4``, table 0357 code, reason), or None.
        severity: ERR-4: E (error) or W (warning: applied or held, see the reason).
    """
    control = f"CB{now:%Y%m%d%H%M%S}{next(_counter) % 100000:05d}"
    if head is None:
        msh = ["MSH", "^~\\&", _clean(application), "", "", "", f"{now:%Y%m%d%H%M%S}", "", "ACK", control, "P", "2.5"]
        trigger_version = "2.5"
    else:
        trigger_version = head.version
        msh = [
            "MSH",
            "^~\\&",
            _clean(application),
            _clean(head.receiving_facility),
            _clean(head.sending_application),
            _clean(head.sending_facility),
            f"{now:%Y%m%d%H%M%S}",
            "",
            f"ACK^{_clean(head.trigger)}^ACK" if head.trigger else "ACK",
            control,
            "P",
            trigger_version,
        ]
    lines = ["|".join(msh), "|".join(["MSA", code, _clean(head.control_id) if head else ""])]
    if error is not None:
        location, err_code, reason = error
        m = _LOCATION.match(location)
        seg, fld, comp = (m.group(1), m.group(2) or "", m.group(3) or "") if m else ("", "", "")
        eld = f"{seg}^1^{fld}" if seg else ""
        erl = "^".join(p for p in (seg, "1" if seg else "", fld, "1" if comp else "", comp)) if seg else ""
        cwe = f"{err_code}^{ERROR_NAMES.get(err_code, 'Error')}^HL70357"
        lines.append("|".join(["ERR", eld, erl, cwe, severity, "", "", "", _clean(reason)]))
    return "\r".join(lines) + "\r"
