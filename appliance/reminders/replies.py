"""Reading a patient's SMS reply: confirm, cancel, stop, or unclear.

Patients answer the way they type: "Tak.", "sí!", "EVET", "İptal",
"yes thanks", "1", "１", "是的", "취소합니다". The text is folded (case,
accents, Turkish dotted/dotless i, Polish ł, full-width digits,
punctuation and emoji dropped) and must then consist of reply words and
politeness only. Anything else (a question, a new time, "yes but...", a
yes and a no together) is *unclear*: the reminder module leaves the
message for the front desk and marks the attempt ``unclear-reply``.

Scripts without spaces (Chinese, Korean replies written together) are
split greedily into known words, so "是的谢谢" reads as "是的" + "谢谢".

Example:
    >>> parse_reply("  Tak!! ")
    'confirm'
    >>> parse_reply("İPTAL")
    'cancel'
    >>> parse_reply("can I come at 3 instead?") is None
    True
"""

from __future__ import annotations

import re
import unicodedata

CONFIRM = "confirm"
CANCEL = "cancel"
STOP = "stop"

_CONFIRM_WORDS = {
    "1", "yes", "y", "yeah", "yep", "ok", "okay", "confirm", "confirmed", "confirmo", "confirmado", "si",
    "vale", "tak", "potwierdzam", "potwierdzone", "evet", "onay", "onayliyorum", "tamam",
    "예", "네", "확인", "확인합니다", "예약확인", "是", "是的", "确认", "好", "好的", "对",
}  # fmt: skip
_CANCEL_WORDS = {
    "2", "no", "n", "nope", "cancel", "cancelled", "cancelar", "cancelo", "anular", "anuluj", "anuluje",
    "odwolaj", "odwoluje", "rezygnuje", "nie", "iptal", "hayir", "vazgectim",
    "취소", "취소합니다", "아니요", "아니오", "取消", "不", "否", "不去",
}  # fmt: skip
_STOP_WORDS = {
    "stop", "stopall", "unsubscribe", "baja", "wypisz", "ret", "수신거부", "退订",
}  # fmt: skip
#: Words that may accompany an answer without changing it.
_FILLER = {
    "thanks", "thank", "you", "thx", "please", "pls", "gracias", "por", "favor", "dziekuje", "dzieki",
    "prosze", "tesekkurler", "tesekkur", "ederim", "sagol", "lutfen", "감사합니다", "고맙습니다", "谢谢", "谢谢你",
    "de", "la", "cita", "wizyte", "wizyta", "randevu", "randevuyu", "appointment", "the", "my", "i", "mi", "moja", "moje", "ediyorum", "합니다", "해주세요", "예약", "一下", "预约",
}  # fmt: skip

_WORDS = {**dict.fromkeys(_CONFIRM_WORDS, CONFIRM), **dict.fromkeys(_CANCEL_WORDS, CANCEL)}
_WORDS.update(dict.fromkeys(_STOP_WORDS, STOP))
_KNOWN = set(_WORDS) | _FILLER
_LONGEST = max(len(w) for w in _KNOWN)
_CJK = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af\u3400-\u9fff\uf900-\ufaff]")


def fold(text: str) -> str:
    """Lower case without accents or punctuation; Hangul and Han kept whole."""
    text = unicodedata.normalize("NFKC", text).replace("İ", "i")
    text = text.casefold().replace("ı", "i").replace("ł", "l")
    out = []
    for ch in unicodedata.normalize("NFD", text):
        if unicodedata.category(ch) == "Mn":
            continue
        out.append(ch if ch.isalnum() else " ")
    return unicodedata.normalize("NFC", "".join(out))


def _segment(token: str) -> list[str] | None:
    """Split a run of CJK text into known words (greedy, longest first)."""
    words, i = [], 0
    while i < len(token):
        for size in range(min(_LONGEST, len(token) - i), 0, -1):
            if token[i : i + size] in _KNOWN:
                words.append(token[i : i + size])
                i += size
                break
        else:
            return None
    return words


def words_of(text: str) -> list[str] | None:
    """The reply's words, or None when a word is not one a reply may contain."""
    words: list[str] = []
    for token in fold(text).split():
        if token in _KNOWN:
            words.append(token)
        elif _CJK.search(token):
            parts = _segment(token)
            if parts is None:
                return None
            words += parts
        else:
            return None
    return words


def parse_reply(text: str) -> str | None:
    """``"confirm"``, ``"cancel"``, ``"stop"``, or None when a person should read it."""
    if not text or len(text) > 160:
        return None
    words = words_of(text)
    if not words:
        return None
    meanings = {_WORDS[w] for w in words if w in _WORDS}
    if len(meanings) != 1:
        return None
    return meanings.pop()
