"""Reading a patient's SMS reply: confirm, cancel, stop, or unclear with a reason.

Patients answer in their own words: "Yes I'll be there", "No puedo ir",
"Nie przyjdę", "Gelemeyeceğim", "못 가요", "我去不了", "stop sms". The
words of each language live in data files (``replies_data/<lang>.toml``,
read by :mod:`appliance.reminders.replies_lexicon`, which also says which
stemmers and tokenizers are used and why); this module holds the rules
that make the reading safe, the same for every language:

* a question ("?", "czy", "吗", "-까요"), a request to move the visit, a
  date or a time, a "maybe"/"if"/"but", or a yes and a no together make
  the reply *unclear*: the front desk reads it, with the reason;
* a negator reaches to the end of its clause: "I can't come" and "No
  puedo ir" are a cancel, "No, I'll come" is a no and a yes (unclear),
  "don't cancel" is a negated answer (unclear, never a confirm);
* a reply is never read as the opposite of what it says: when in doubt
  it is unclear.

Every language's data is tried; the one that knows most of the reply's
words reads it (the patient's language wins a tie), so a Spanish patient
who writes "yes" or "OK 好的" is understood and the Polish "no" ("well")
is not taken for the English one. The keypad answers of the reminder
call ("1", "2") are read here too, when they are the whole reply.

Example:
    >>> read_reply("No puedo ir, lo siento").meaning
    'cancel'
    >>> read_reply("No, I'll come").reason
    'yes-and-no'
    >>> parse_reply("can I come at 3 instead?") is None
    True
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from appliance.reminders.replies_lexicon import (
    LANGUAGES,
    NEGATOR_NO,
    NUMBER,
    UNKNOWN,
    Item,
    fold,
    lexicon,
)

CONFIRM = "confirm"
CANCEL = "cancel"
STOP = "stop"
#: "Put me on the waitlist" (appliance.waitlist claims it; without the waitlist the desk reads it).
WAITLIST = "waitlist"
MAX_CHARS = 160
#: Words the box does not know that a clear reply may still carry (a name, "doctor").
MAX_UNKNOWN = 3

#: Why a reply was left for the front desk (stored with the message; the web UI translates them).
REASONS = (
    "empty", "too-long", "no-words", "unknown-language", "question", "reschedule", "date", "time",
    "yes-and-no", "several-answers", "unsure", "negated-answer", "ambiguous", "other-words",
    "not-understood", "already-answered", "visit-changed", "no-reminder",
    # A reply to a missed-call text-back that is not a clear yes (appliance.textback.inbox).
    "textback-reply",
    # A reply to a no-show follow-up: it went to the worklist (appliance.reminders.followup_replies).
    "followup-reply",
    # A reply to a waitlist offer that is not a clear yes or no; a "waitlist" reply the box could not take.
    "waitlist-reply", "waitlist-request",
)  # fmt: skip
_FLAG_ORDER = ("question", "reschedule", "date", "time")
_TIME = re.compile(r"\d{1,2}\s*[:h]\s*\d{2}|\d\s*(am|pm|a\.m|p\.m|uhr|godz|시|点|點|時)\b|\d\s*(시|点|點|時)", re.I)
_DATE = re.compile(r"\b\d{1,2}\s*[./-]\s*\d{1,2}\b|\d\s*(일|号|號|月)")
_QUESTION = set("?¿？؟")
#: Letters of scripts none of the box's languages use (Cyrillic, Greek, Arabic, kana...).
_FOREIGN = re.compile(
    r"[\u0370-\u03ff\u0400-\u052f\u0590-\u06ff\u0900-\u0dff\u0e00-\u0eff\u3040-\u30ff\u0530-\u058f\u10a0-\u10ff]"
)


@dataclass(frozen=True)
class Reading:
    """What a reply says: ``meaning`` (confirm, cancel, stop) or None with a ``reason``."""

    meaning: str | None
    reason: str | None
    language: str | None = None

    @property
    def clear(self) -> bool:
        return self.meaning is not None


def _unclear(reason: str, language: str | None = None) -> Reading:
    return Reading(None, reason, language)


def parse_reply(text: str, language: str | None = None) -> str | None:
    """``"confirm"``, ``"cancel"``, ``"stop"``, or None when a person should read it."""
    return read_reply(text, language).meaning


def read_reply(text: str | None, language: str | None = None) -> Reading:
    """Read a reply; ``language`` is the patient's: it wins when two languages know as
    many of the words. Without it English, then the others in order, win; with it, two
    other languages that read the reply differently leave it unclear ("ambiguous")."""
    if text is None or not text.strip():
        return _unclear("empty")
    if len(text) > MAX_CHARS:
        return _unclear("too-long")
    if not fold(text).strip():
        return _unclear("no-words")
    if _FOREIGN.search(text):
        return _unclear("unknown-language")
    order = [language] if language in LANGUAGES else []
    order += [lang for lang in LANGUAGES if lang not in order]
    readings = [(lang, lexicon(lang).items(text)) for lang in order]
    best = max(_known(items) for _, items in readings)
    if best == 0 and not any(it.kind == NUMBER for _, items in readings for it in items):
        return _unclear("unknown-language")
    top = [(lang, items) for lang, items in readings if _known(items) == best]
    results = [_resolve(text, lang, items) for lang, items in top]
    words = sum(it.size for it in top[0][1] if it.kind != NUMBER)
    first = results[0]
    vague = first.reason in (None, "not-understood", "other-words") or 3 * best < words
    if 2 * best < words and vague and not any(ch in _QUESTION for ch in text):
        # Most words are in no language the box reads ("Não posso ir"): not read on one word;
        # a reason the reading found ("다음 주로 *미뤄주세요*": reschedule) stays, unless it
        # rests on one word in three ("Non posso venire, *mi* dispiace").
        return _unclear("other-words" if first.meaning else "unknown-language", first.language)
    if language is None or top[0][0] == language or len({r.meaning for r in results}) == 1:
        return first
    return _unclear("ambiguous", first.language)


def _known(items: list[Item]) -> int:
    """How many of the reply's words a language's reading knows."""
    return sum(it.size for it in items if it.kind not in (UNKNOWN, NUMBER))


def _resolve(text: str, language: str, items: list[Item]) -> Reading:
    """The safety rules, on one language's reading of the reply."""
    plain = unicodedata.normalize("NFKC", text)
    flags: set[str] = set()
    if any(ch in _QUESTION for ch in text):
        flags.add("question")
    if _TIME.search(plain):
        flags.add("time")
    if _DATE.search(plain):
        flags.add("date")
    meanings = _meanings(items, flags)
    for flag in _FLAG_ORDER:
        if flag in flags:
            return _unclear(flag, language)
    if {CONFIRM, CANCEL} <= meanings:
        return _unclear("yes-and-no", language)
    if len(meanings) > 1:
        return _unclear("several-answers", language)
    for flag in ("unsure", "negated-answer", "ambiguous"):
        if flag in flags:
            return _unclear(flag, language)
    unknown = sum(1 for it in items if it.kind == UNKNOWN)
    content = sum(1 for it in items if it.kind not in (UNKNOWN, NUMBER, "filler"))
    if meanings and (unknown > MAX_UNKNOWN or unknown > content or _unknown_beside_answer(items)):
        return _unclear("other-words", language)
    if not meanings:
        return _unclear("not-understood", language)
    return Reading(meanings.pop(), None, language)


def _unknown_beside_answer(items: list[Item]) -> bool:
    """An unknown word in the same clause as a yes, a no or a verb of coming may change
    it ("*Imposible* ir", "*Eşim* gelecek": my wife will come): the desk reads it. A
    name or a greeting in a clause of its own ("Yes - Maria") does not."""
    answer = {it.clause for it in items if it.kind in (CONFIRM, CANCEL, "come", "negator", NEGATOR_NO)}
    return any(it.kind == UNKNOWN and it.clause in answer for it in items)


def _meanings(items: list[Item], flags: set[str]) -> set[str]:
    """The answers the items give; adds flags (question, date, unsure...) as it goes.

    Negators go first, so a verb they take back ("can't *come*") is not also a yes."""
    answers = [it for it in items if it.kind not in ("filler", UNKNOWN)]
    keypad = len(answers) == 1 and answers[0].text in ("1", "2")
    meanings: set[str] = set()
    used: set[int] = set()
    for i, it in enumerate(items):
        if it.kind in ("negator", NEGATOR_NO, "negator-after") and i not in used:
            used.add(i)
            _negate(items, i, used, meanings, flags)
    for i, it in enumerate(items):
        kind = it.kind
        if i in used:
            continue
        if kind in ("question", "reschedule", "date", "time", "unsure", "ambiguous"):
            flags.add(kind)
        elif kind == NUMBER or (kind in (CONFIRM, CANCEL) and it.text in ("1", "2") and not keypad):
            flags.add("time")
        elif kind in (CONFIRM, CANCEL, STOP, WAITLIST):
            meanings.add(kind)
        elif kind == "come":
            meanings.add(CONFIRM)
    return meanings


def _negate(items: list[Item], i: int, used: set[int], meanings: set[str], flags: set[str]) -> None:
    """A negator reaches every verb of coming after it in its clause ("can't come",
    "no voy a poder ir"); with none after it, the one just before it ("참석 못 해요",
    "gelecek değilim"); with none at all, it is a "no" when the word is one ("nie")."""
    clause = items[i].clause
    reached: list[int] = []
    ahead = range(i + 1, len(items)) if items[i].kind != "negator-after" else range(0)
    for j in ahead:
        if items[j].clause != clause:
            break
        kind = items[j].kind
        if kind == "come":
            reached.append(j)
        # "don't cancel", "don't stop" (opt-out phrases with a "not" in them are whole phrases)
        elif kind in (CONFIRM, CANCEL, STOP, "negator", NEGATOR_NO, "negator-after"):
            used.add(j)
            flags.add("negated-answer")
            return
    if not reached:
        before = [j for j in range(i) if items[j].clause == clause and j not in used and items[j].kind != "filler"]
        if before and items[before[-1]].kind == "come":
            reached = [before[-1]]
        elif (
            items[i].kind == "negator-after" and before and items[before[-1]].kind in (CONFIRM, CANCEL)
        ):  # "iptal etmeyin": "don't cancel"
            used.add(before[-1])
    if reached:
        used.update(reached)
        meanings.add(CANCEL)
    elif items[i].kind == NEGATOR_NO:
        meanings.add(CANCEL)
    else:
        flags.add("negated-answer")
