"""What a no-show follow-up says: the SMS per language, and the call's prompts.

The SMS is the clinic's own (``[followup].texts``) or the shipped one,
with ``{clinic}``, ``{date}`` and ``{time}`` of the missed visit filled in;
the reason for the visit only when the clinic turned on
``contact.include_reason`` (:func:`appliance.reminders.messages.reason_part`).
The call's prompts join the IVR's catalogue like the reminders' (the
clinic may reword or record them); before the first key press the call
says no more than the clinic's name (``reminder_hello``), since an
answering machine may be listening.
"""

from __future__ import annotations

from datetime import datetime

from appliance.config import Config
from appliance.ivr.prompts import PromptRef
from appliance.reminders.when import spoken, written

#: The shipped SMS; a "yes" (any reply, in fact) reaches the front desk's worklist.
SMS: dict[str, str] = {
    "en": "{clinic}: we missed you at your visit on {date} at {time}. Reply YES and we will call you to book a new time.",
    "es": "{clinic}: no pudo venir a su cita del {date} a las {time}. Responda SÍ y le llamaremos para darle otra.",
    "pl": "{clinic}: nie było Cię na wizycie {date}, godz. {time}. Odpisz TAK, a zadzwonimy, by umówić nowy termin.",
    "tr": "{clinic}: {date} saat {time} randevunuza gelemediniz. Yeni randevu için EVET yazın, sizi arayalım.",
    "ko": "{clinic}: {date} {time} 예약에 오지 않으셨습니다. 새 예약을 원하시면 네 라고 답장해 주세요.",
    "zh": "{clinic}：您错过了{date} {time}的预约。回复“是”，我们会致电为您重新预约。",
}

#: The call: after "reminder_hello" and a key, when, then the menu. 1 = call me to rebook,
#: 2 = no new visit, 3 = the front desk now (reminder_desk), 9 = again.
TEXTS: dict[str, dict[str, str]] = {
    "followup_when": {
        "en": "We missed you at your appointment at {clinic} on {date}, at {time}.",
        "es": "No pudo venir a su cita en {clinic} el {date}, a las {time}.",
        "pl": "Nie było Państwa na wizycie w {clinic}: {date}, godzina {time}.",
        "tr": "{clinic} kliniğindeki {date}, saat {time} randevunuza gelemediniz.",
        "ko": "{date} {time} {clinic} 예약에 오지 않으셨습니다.",
        "zh": "您错过了{clinic}{date}{time}的预约。",
    },
    "followup_menu": {
        "en": "To ask us to call you to book a new time, press 1. If you do not want a new appointment, press 2. To speak to the front desk now, press 3. To hear this again, press 9.",
        "es": "Para que le llamemos y le demos otra cita, oprima 1. Si no desea otra cita, oprima 2. Para hablar ahora con recepción, oprima 3. Para repetir, oprima 9.",
        "pl": "Aby poprosić o telefon w sprawie nowego terminu, wybierz 1. Jeśli nie chcesz nowej wizyty, wybierz 2. Aby porozmawiać teraz z rejestracją, wybierz 3. Aby odsłuchać ponownie, wybierz 9.",
        "tr": "Yeni randevu için sizi aramamızı istiyorsanız 1, yeni randevu istemiyorsanız 2, şimdi danışma ile görüşmek için 3, tekrar dinlemek için 9 tuşuna basın.",
        "ko": "새 예약을 위해 전화를 원하시면 1번, 새 예약을 원하지 않으시면 2번, 지금 접수 데스크와 통화하시려면 3번, 다시 들으시려면 9번을 눌러 주십시오.",
        "zh": "需要我们致电为您重新预约请按1，不需要新的预约请按2，现在转接前台请按3，重听请按9。",
    },
    "followup_rebook": {
        "en": "Thank you. The front desk will call you to book a new time. Goodbye.",
        "es": "Gracias. Recepción le llamará para darle otra cita. Adiós.",
        "pl": "Dziękujemy. Rejestracja zadzwoni, aby umówić nowy termin. Do widzenia.",
        "tr": "Teşekkür ederiz. Danışma yeni randevu için sizi arayacak. İyi günler.",
        "ko": "감사합니다. 접수 데스크에서 새 예약을 위해 전화드리겠습니다. 안녕히 계십시오.",
        "zh": "谢谢，前台会致电为您重新预约。再见。",
    },
    "followup_declined": {
        "en": "Thank you, we have noted it. Goodbye.",
        "es": "Gracias, lo hemos anotado. Adiós.",
        "pl": "Dziękujemy, odnotowaliśmy to. Do widzenia.",
        "tr": "Teşekkür ederiz, not aldık. İyi günler.",
        "ko": "감사합니다. 잘 알겠습니다. 안녕히 계십시오.",
        "zh": "谢谢，我们已记录。再见。",
    },
}


def refs(cfg: Config) -> list[PromptRef]:
    """The follow-up prompts that do not depend on one visit (warmed with the IVR's)."""
    if not cfg.followup.enabled or not cfg.reminders.enabled:
        return []
    return [PromptRef(k) for k in ("followup_menu", "followup_rebook", "followup_declined")]


def template(cfg: Config, language: str) -> str:
    own = cfg.followup.texts.get(language, "").strip()
    return own or SMS.get(language) or SMS["en"]


def sms_text(cfg: Config, language: str, starts_at: datetime, reason: str = "") -> str:
    """The follow-up SMS for a visit that started at ``starts_at``, filled in."""
    from appliance.reminders.messages import reason_part

    day, hour = written(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    return template(cfg, language).format(clinic=cfg.clinic.name, date=day, time=hour) + reason_part(
        cfg, language, reason
    )


def when_prompt(cfg: Config, starts_at: datetime, language: str) -> PromptRef:
    day, hour = spoken(starts_at, language, cfg.clinic.timezone, cfg.clinic.country)
    return PromptRef.of("followup_when", date=day, time=hour)
