"""Config section ``[waitlist]``: filling freed slots from the waitlist by SMS offers.

See :mod:`appliance.waitlist` for what the keys do; the offers obey
``[contact]`` like every other message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from appliance.config.schema import setting

if TYPE_CHECKING:
    from appliance.config.model import Config

#: What an offer text may fill in.
OFFER_FIELDS = {"clinic": "", "date": "", "time": "", "minutes": 15}


@dataclass(frozen=True)
class WaitlistSettings:
    enabled: bool = setting(doc="Hold cancelled visits and offer them by SMS to waitlisted patients (needs the modem).")
    expiry_min: int = setting(
        doc="An offer not answered within this many minutes goes to the next patient.", min=2, max=24 * 60
    )
    batch: int = setting(
        doc="Offer a slot to this many patients at once (1 = one at a time); the first yes gets it.", min=1, max=10
    )
    min_notice_min: int = setting(
        doc="Never offer a slot starting sooner than this many minutes from now (too soon to reach).",
        min=15,
        max=7 * 24 * 60,
    )
    join_by_reply: bool = setting(
        doc="A patient who replies WAITLIST to a reminder or a text-back is put on the waitlist (earliest possible)."
    )
    offer_texts: dict[str, str] = setting(
        doc="The offer text per language; {clinic}, {date}, {time} and {minutes} are filled in. "
        "Unset languages use the shipped text."
    )


def waitlist_checks(cfg: Config) -> Iterator[tuple[str, str]]:
    for lang, text in cfg.waitlist.offer_texts.items():
        if lang not in cfg.clinic.languages:
            yield f"waitlist.offer_texts.{lang}", f"{lang} is not one of clinic.languages"
        elif not text.strip():
            yield f"waitlist.offer_texts.{lang}", "empty; remove it to use the shipped text"
        elif len(text) > 600:
            yield f"waitlist.offer_texts.{lang}", "longer than 600 characters; keep it to one or two SMS"
        else:
            try:
                text.format(**OFFER_FIELDS)
            except (KeyError, IndexError, ValueError) as exc:
                yield (
                    f"waitlist.offer_texts.{lang}",
                    f"only {{clinic}}, {{date}}, {{time}}, {{minutes}} may be filled in ({exc})",
                )
