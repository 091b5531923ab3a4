"""STOP, START and HELP in the box's six languages, and the answers the law expects (pure).

A keyword counts only when it is the whole message (spaces, punctuation and
case aside): "STOP", "Stop.", "退订", "수신거부". A sentence that merely
contains the word ("don't stop the reminders") is a reply for a person to
read, not a keyword. The English words are understood whatever the
patient's language (carriers and patients use them everywhere).

The answers follow the US carriers' rules (CTIA) and TCPA practice: STOP is
confirmed once, naming the clinic and how to opt back in; HELP names the
clinic, how to reach it and how to opt out; START confirms the opt-in.

Example:
    >>> keyword(" Stop! "), keyword("WYPISZ"), keyword("도움말"), keyword("stop coming")
    ('stop', 'stop', 'help', None)
"""

from __future__ import annotations

import re
import unicodedata

STOP, START, HELP = "stop", "start", "help"

#: Whole-message keywords per meaning (all languages at once, case-folded).
WORDS: dict[str, frozenset[str]] = {
    STOP: frozenset(
        {
            # en (CTIA's list without CANCEL, which cancels a visit here)
            "stop",
            "stopall",
            "stop all",
            "unsubscribe",
            "end",
            "quit",
            "opt out",
            "optout",
            "stop sms",
            # es
            "parar",
            "alto",
            "baja",
            "darse de baja",
            "no mas mensajes",
            "no más mensajes",
            # pl
            "wypisz",
            "wypisz mnie",
            "nie wysylaj",
            "nie wysyłaj",
            "rezygnuje",
            "rezygnuję",
            # tr
            "dur",
            "durdur",
            "iptal abonelik",
            "abonelikten cik",
            "abonelikten çık",
            "mesaj istemiyorum",
            # ko
            "중지",
            "수신거부",
            "수신 거부",
            "그만",
            "그만 보내세요",
            # zh
            "退订",
            "停止",
            "取消订阅",
            "td",
        }
    ),
    START: frozenset(
        {
            "start",
            "unstop",
            "subscribe",
            "resume",
            "empezar",
            "reanudar",
            "alta",
            "wznow",
            "wznów",
            "zapisz",
            "zapisz mnie",
            "baslat",
            "başlat",
            "devam",
            "시작",
            "수신동의",
            "수신 동의",
            "开始",
            "订阅",
            "恢复",
        }
    ),
    HELP: frozenset({"help", "info", "ayuda", "pomoc", "yardim", "yardım", "도움말", "도움", "帮助", "求助"}),
}

_STRIP = re.compile(r"[\s\W_]+", re.UNICODE)


def _normal(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text or "").casefold()
    return " ".join(part for part in _STRIP.split(folded) if part)


def keyword(text: str) -> str | None:
    """``stop``, ``start``, ``help`` when the whole message is one, else None."""
    words = _normal(text)
    if not words or len(words) > 40:
        return None
    for meaning, found in WORDS.items():
        if words in found:
            return meaning
    return None


#: The answers, per language: {clinic} and {phone} are filled in.
ANSWERS: dict[str, dict[str, str]] = {
    STOP: {
        "en": "{clinic}: you are unsubscribed and will get no more messages. Reply START to subscribe again.",
        "es": "{clinic}: se ha dado de baja y no recibirá más mensajes. Responda START para volver a recibirlos.",
        "pl": "{clinic}: wypisano Cię, nie wyślemy więcej wiadomości. Odpisz START, aby znów je otrzymywać.",
        "tr": "{clinic}: aboneliğiniz iptal edildi, artık mesaj almayacaksınız. Tekrar almak için START yazın.",
        "ko": "{clinic}: 수신 거부되었습니다. 더 이상 메시지를 보내지 않습니다. 다시 받으시려면 START를 보내 주세요.",
        "zh": "{clinic}：您已退订，将不再收到短信。如需恢复，请回复START。",
    },
    START: {
        "en": "{clinic}: you will get our messages again. Reply STOP to opt out, HELP for help.",
        "es": "{clinic}: volverá a recibir nuestros mensajes. Responda STOP para darse de baja, AYUDA para ayuda.",
        "pl": "{clinic}: znów będziesz otrzymywać nasze wiadomości. Odpisz STOP, aby zrezygnować, POMOC po pomoc.",
        "tr": "{clinic}: mesajlarımızı yeniden alacaksınız. Durdurmak için STOP, yardım için YARDIM yazın.",
        "ko": "{clinic}: 메시지 수신이 다시 시작됩니다. 수신 거부는 STOP, 도움말은 HELP를 보내 주세요.",
        "zh": "{clinic}：您将重新收到我们的短信。回复STOP退订，回复帮助获取帮助。",
    },
    HELP: {
        "en": "{clinic}: appointment and missed-call messages.{phone} Reply STOP to opt out.",
        "es": "{clinic}: mensajes de citas y llamadas perdidas.{phone} Responda STOP para darse de baja.",
        "pl": "{clinic}: wiadomości o wizytach i nieodebranych połączeniach.{phone} Odpisz STOP, aby zrezygnować.",
        "tr": "{clinic}: randevu ve cevapsız arama mesajları.{phone} Durdurmak için STOP yazın.",
        "ko": "{clinic}: 예약 및 부재중 전화 안내 메시지입니다.{phone} 수신 거부는 STOP을 보내 주세요.",
        "zh": "{clinic}：预约及未接来电短信。{phone}回复STOP退订。",
    },
}
#: How the clinic's number is added to HELP, per language.
PHONE = {
    "en": " Call {n}.",
    "es": " Llame al {n}.",
    "pl": " Tel. {n}.",
    "tr": " Tel: {n}.",
    "ko": " 전화: {n}.",
    "zh": "电话：{n}。",
}


def answer(meaning: str, language: str, clinic: str, phone: str = "") -> str:
    """The confirmation for a keyword, in ``language`` (English when unknown)."""
    texts = ANSWERS[meaning]
    lang = language if language in texts else "en"
    number = PHONE[lang].format(n=phone) if phone else ""
    return texts[lang].format(clinic=clinic, phone=number)
