"""Config section for the no-show follow-up (``[followup]``).

A visit marked as a no-show gets one message offering to rebook, by SMS or
call as the patient takes reminders, through the contact policy
(``[contact]``); see :mod:`appliance.reminders.followup`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

#: What a clinic's follow-up text may fill in.
PLACEHOLDERS = ("clinic", "date", "time")


@dataclass(frozen=True)
class FollowupSettings:
    enabled: bool = setting(doc="Offer a no-show a new appointment, once, by SMS or call (needs reminders).")
    delay_min: int = setting(
        doc="Minutes after the visit's end before the follow-up goes (then the first contact window).",
        min=0,
        max=7 * 24 * 60,
    )
    stale_h: int = setting(
        doc="A follow-up that could not go within this many hours of its time (the visit's end + the delay) "
        "is dropped.",
        min=1,
        max=24 * 14,
    )
    reply_h: int = setting(
        doc="Replies within this many hours of the follow-up go to the worklist.", min=1, max=24 * 14
    )
    texts: dict[str, str] = setting(
        doc="The SMS per language; {clinic}, {date} and {time} (the missed visit) are filled in. "
        "Unset languages use the shipped text."
    )


def followup_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    empty = dict.fromkeys(PLACEHOLDERS, "")
    for lang, text in cfg.followup.texts.items():
        key = f"followup.texts.{lang}"
        if lang not in cfg.clinic.languages:
            yield key, f"{lang} is not one of clinic.languages"
        elif not text.strip():
            yield key, "empty; remove it to use the shipped text"
        elif len(text) > 600:
            yield key, "longer than 600 characters; keep it to one or two SMS"
        else:
            try:
                text.format(**empty)
            except (KeyError, IndexError, ValueError) as exc:
                yield key, f"only {{clinic}}, {{date}} and {{time}} may be filled in ({exc})"
