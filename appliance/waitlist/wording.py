"""The waitlist's SMS per language: the offer (the clinic's own, ``[waitlist].offer_texts``, or
the shipped one) and the short answers to a patient's reply.

Only the clinic's name, the slot's day and time and the minutes the offer
stays open go in: never the provider's specialty or a reason for a visit.
"""

from __future__ import annotations

from datetime import datetime

from appliance.config import Config
from appliance.reminders.when import written

#: {clinic}, {date}, {time}, {minutes}.
OFFER: dict[str, str] = {
    "en": "{clinic}: a visit is free on {date} at {time}. Reply YES within {minutes} min to take it, or NO.",
    "es": "{clinic}: hay una cita libre el {date} a las {time}. Responda SI en {minutes} min para tomarla, o NO.",
    "pl": "{clinic}: zwolnił się termin {date} o {time}. Odpisz TAK w ciągu {minutes} min, aby go zająć, lub NIE.",
    "tr": "{clinic}: {date} {time} için bir randevu boşaldı. Almak için {minutes} dk içinde EVET, yoksa HAYIR yazın.",
    "ko": "{clinic}: {date} {time}에 예약 자리가 났습니다. {minutes}분 안에 네 라고 답하시면 예약됩니다. 원치 않으시면 아니요.",
    "zh": "{clinic}：{date} {time}有空出的预约。请在{minutes}分钟内回复“好的”预约，回复“不要”放弃。",
}

#: The answers to a reply: {clinic}, and {date}/{time} of the slot where it is named.
ANSWERS: dict[str, dict[str, str]] = {
    "booked": {
        "en": "{clinic}: you are booked on {date} at {time}. See you then.",
        "es": "{clinic}: su cita queda reservada el {date} a las {time}. Hasta entonces.",
        "pl": "{clinic}: zarezerwowano wizytę {date} o {time}. Do zobaczenia.",
        "tr": "{clinic}: randevunuz {date} {time} için alındı. Görüşmek üzere.",
        "ko": "{clinic}: {date} {time}에 예약되었습니다. 그때 뵙겠습니다.",
        "zh": "{clinic}：已为您预约{date} {time}。届时见。",
    },
    "taken": {
        "en": "{clinic}: sorry, that slot has just been taken. You stay on our waitlist.",
        "es": "{clinic}: lo sentimos, esa cita ya está ocupada. Sigue en nuestra lista de espera.",
        "pl": "{clinic}: przepraszamy, ten termin jest już zajęty. Pozostajesz na liście oczekujących.",
        "tr": "{clinic}: üzgünüz, bu randevu az önce alındı. Bekleme listemizde kalıyorsunuz.",
        "ko": "{clinic}: 죄송합니다. 방금 다른 분이 예약하셨습니다. 대기 명단에는 그대로 남아 계십니다.",
        "zh": "{clinic}：抱歉，该预约刚被别人约走。您仍在候补名单上。",
    },
    "expired": {
        "en": "{clinic}: sorry, this offer has expired. You stay on our waitlist.",
        "es": "{clinic}: lo sentimos, esta oferta ha caducado. Sigue en nuestra lista de espera.",
        "pl": "{clinic}: przepraszamy, ta propozycja wygasła. Pozostajesz na liście oczekujących.",
        "tr": "{clinic}: üzgünüz, bu teklifin süresi doldu. Bekleme listemizde kalıyorsunuz.",
        "ko": "{clinic}: 죄송합니다. 제안 시간이 지났습니다. 대기 명단에는 그대로 남아 계십니다.",
        "zh": "{clinic}：抱歉，此预约邀请已过期。您仍在候补名单上。",
    },
    "declined": {
        "en": "{clinic}: thank you. You stay on our waitlist.",
        "es": "{clinic}: gracias. Sigue en nuestra lista de espera.",
        "pl": "{clinic}: dziękujemy. Pozostajesz na liście oczekujących.",
        "tr": "{clinic}: teşekkürler. Bekleme listemizde kalıyorsunuz.",
        "ko": "{clinic}: 감사합니다. 대기 명단에 그대로 남아 계십니다.",
        "zh": "{clinic}：谢谢。您仍在候补名单上。",
    },
    "joined": {
        "en": "{clinic}: you are on our waitlist. We will text you when an earlier visit frees up.",
        "es": "{clinic}: está en nuestra lista de espera. Le escribiremos si se libera una cita antes.",
        "pl": "{clinic}: jesteś na liście oczekujących. Napiszemy, gdy zwolni się wcześniejszy termin.",
        "tr": "{clinic}: bekleme listemizdesiniz. Daha erken bir randevu boşalırsa size yazacağız.",
        "ko": "{clinic}: 대기 명단에 등록되었습니다. 더 이른 예약 자리가 나면 문자 드리겠습니다.",
        "zh": "{clinic}：您已加入候补名单。有更早的空位时我们会发短信通知您。",
    },
}


def language_for(cfg: Config, language: str | None) -> str:
    """The patient's language if the clinic offers it, else the clinic's default."""
    return language if language and language in cfg.clinic.languages else cfg.clinic.default_language


def offer_template(cfg: Config, language: str) -> str:
    own = cfg.waitlist.offer_texts.get(language, "").strip()
    return own or OFFER.get(language) or OFFER["en"]


def offer_text(cfg: Config, language: str, starts_at: datetime, template: str | None = None) -> str:
    """The offer for a slot starting at ``starts_at``, in ``language``, filled in."""
    day, hour = written(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    return (template or offer_template(cfg, language)).format(
        clinic=cfg.clinic.name, date=day, time=hour, minutes=cfg.waitlist.expiry_min
    )


def answer_text(cfg: Config, kind: str, language: str, starts_at: datetime | None = None) -> str:
    """One of :data:`ANSWERS`, filled in."""
    texts = ANSWERS[kind]
    template = texts.get(language) or texts["en"]
    day, hour = ("", "") if starts_at is None else written(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    return template.format(clinic=cfg.clinic.name, date=day, time=hour)
