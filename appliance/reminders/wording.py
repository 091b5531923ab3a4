"""What reminder calls say and reminder SMS read, in six languages.

The voice texts join the IVR's prompt catalogue (:func:`register_prompts`,
called when ``appliance.reminders`` is imported): a clinic overrides them under
``[prompts.texts.<lang>]`` or records ``<lang>/<key>.wav`` like any other
prompt, and the prompt library generates them with espeak-ng. Their
dynamic placeholders (:data:`PLACEHOLDERS`) come from the
:class:`~appliance.ivr.PromptRef`'s parameters: ``{date}`` and ``{time}``
(Babel, see :mod:`appliance.reminders.when`), ``{provider}`` and
``{callback}`` (the clinic's number, digit by digit).

Privacy: nothing said before the patient presses a key carries more than
the clinic's name, because an answering machine may be listening; the
visit's reason is never spoken or sent at all.
"""

from __future__ import annotations

from appliance.config import Config
from appliance.ivr.catalogue import register_texts
from appliance.ivr.prompts import PromptRef

PLACEHOLDERS = frozenset({"date", "time", "provider", "callback"})

TEXTS: dict[str, dict[str, str]] = {
    "reminder_hello": {
        "en": "Hello, this is {clinic}, calling with a personal message. To hear it, please press 1.",
        "es": "Hola, le llamamos de {clinic} con un mensaje personal. Para escucharlo, oprima 1.",
        "pl": "Dzień dobry, tu {clinic}. Mamy dla Państwa osobistą wiadomość. Aby ją odsłuchać, prosimy wybrać 1.",
        "tr": "Merhaba, {clinic} arıyor. Size özel bir mesajımız var. Dinlemek için lütfen 1 tuşuna basın.",
        "ko": "안녕하세요, {clinic}입니다. 개인 안내 메시지가 있습니다. 들으시려면 1번을 눌러 주십시오.",
        "zh": "您好，这里是{clinic}，我们有一条给您的个人信息。收听请按1。",
    },
    "reminder_when": {
        "en": "This is a reminder of your appointment at {clinic} on {date}, at {time}.",
        "es": "Le recordamos su cita en {clinic} el {date}, a las {time}.",
        "pl": "Przypominamy o wizycie w {clinic}: {date}, godzina {time}.",
        "tr": "{clinic} randevunuzu hatırlatırız: {date}, saat {time}.",
        "ko": "{clinic} 진료 예약 안내입니다. 예약 일시는 {date} {time}입니다.",
        "zh": "提醒您，您在{clinic}的预约时间是{date}{time}。",
    },
    "reminder_provider": {
        "en": "Your appointment is with {provider}.",
        "es": "Su cita es con {provider}.",
        "pl": "Wizyta u: {provider}.",
        "tr": "Randevunuz {provider} ile.",
        "ko": "담당은 {provider}입니다.",
        "zh": "您的预约医生是{provider}。",
    },
    "reminder_menu": {
        "en": "To confirm, press 1. To cancel, press 2. To speak to the front desk, press 3. To hear this again, press 9.",
        "es": "Para confirmar, oprima 1. Para cancelar, oprima 2. Para hablar con recepción, oprima 3. Para repetir, oprima 9.",
        "pl": "Aby potwierdzić, wybierz 1. Aby odwołać wizytę, wybierz 2. Aby porozmawiać z rejestracją, wybierz 3. Aby odsłuchać ponownie, wybierz 9.",
        "tr": "Onaylamak için 1, iptal etmek için 2, danışma ile görüşmek için 3, tekrar dinlemek için 9 tuşuna basın.",
        "ko": "예약을 확인하시려면 1번, 취소하시려면 2번, 접수 데스크와 통화하시려면 3번, 다시 들으시려면 9번을 눌러 주십시오.",
        "zh": "确认预约请按1，取消预约请按2，转接前台请按3，重听请按9。",
    },
    "reminder_confirmed": {
        "en": "Thank you. Your appointment is confirmed. Goodbye.",
        "es": "Gracias. Su cita está confirmada. Adiós.",
        "pl": "Dziękujemy. Wizyta została potwierdzona. Do widzenia.",
        "tr": "Teşekkür ederiz. Randevunuz onaylandı. İyi günler.",
        "ko": "감사합니다. 예약이 확인되었습니다. 안녕히 계십시오.",
        "zh": "谢谢，您的预约已确认。再见。",
    },
    "reminder_cancelled": {
        "en": "Your appointment has been cancelled. To book a new one, please call us. Goodbye.",
        "es": "Su cita ha sido cancelada. Para pedir una nueva, llámenos. Adiós.",
        "pl": "Wizyta została odwołana. Aby umówić nowy termin, prosimy o telefon. Do widzenia.",
        "tr": "Randevunuz iptal edildi. Yeni randevu için lütfen bizi arayın. İyi günler.",
        "ko": "예약이 취소되었습니다. 새로 예약하시려면 전화해 주십시오. 안녕히 계십시오.",
        "zh": "您的预约已取消。如需重新预约，请致电我们。再见。",
    },
    "reminder_desk": {
        "en": "Please hold. We are connecting you to the front desk.",
        "es": "Por favor, espere. Le comunicamos con recepción.",
        "pl": "Prosimy czekać, łączymy z rejestracją.",
        "tr": "Lütfen bekleyin, sizi danışmaya bağlıyoruz.",
        "ko": "잠시만 기다려 주십시오. 접수 데스크로 연결해 드리겠습니다.",
        "zh": "请稍候，正在为您转接前台。",
    },
    "reminder_goodbye": {
        "en": "If you have questions, please call us. Goodbye.",
        "es": "Si tiene preguntas, llámenos. Adiós.",
        "pl": "W razie pytań prosimy o telefon. Do widzenia.",
        "tr": "Sorularınız için lütfen bizi arayın. İyi günler.",
        "ko": "문의 사항이 있으시면 전화해 주십시오. 안녕히 계십시오.",
        "zh": "如有疑问，请致电我们。再见。",
    },
    "reminder_machine": {
        "en": "Hello, this is {clinic}, with a message for you. Please call us back at {callback}. Thank you.",
        "es": "Hola, le llamamos de {clinic} con un mensaje para usted. Por favor, llámenos al {callback}. Gracias.",
        "pl": "Dzień dobry, tu {clinic}. Mamy dla Państwa wiadomość. Prosimy o telefon pod numer {callback}. Dziękujemy.",
        "tr": "Merhaba, {clinic} arıyor. Size bir mesajımız var. Lütfen bizi {callback} numarasından geri arayın. Teşekkürler.",
        "ko": "안녕하세요, {clinic}입니다. 안내 메시지가 있습니다. {callback}번으로 전화 부탁드립니다. 감사합니다.",
        "zh": "您好，这里是{clinic}，有一条信息需要告知您。请回电{callback}。谢谢。",
    },
    "reminder_machine_nonumber": {
        "en": "Hello, this is {clinic}, with a message for you. Please call us back. Thank you.",
        "es": "Hola, le llamamos de {clinic} con un mensaje para usted. Por favor, devuélvanos la llamada. Gracias.",
        "pl": "Dzień dobry, tu {clinic}. Mamy dla Państwa wiadomość. Prosimy o telefon. Dziękujemy.",
        "tr": "Merhaba, {clinic} arıyor. Size bir mesajımız var. Lütfen bizi geri arayın. Teşekkürler.",
        "ko": "안녕하세요, {clinic}입니다. 안내 메시지가 있습니다. 전화 부탁드립니다. 감사합니다.",
        "zh": "您好，这里是{clinic}，有一条信息需要告知您。请给我们回电。谢谢。",
    },
}

#: SMS: the reminder, and the answers to a patient's reply. ``{phone}`` is the
#: clinic's number as dialled in its country; ``{call}`` the "questions?" sentence.
SMS_TEXTS: dict[str, dict[str, str]] = {
    "reminder": {
        "en": "{clinic}: reminder of your appointment on {date} at {time}. Reply 1 or YES to confirm, 2 or NO to cancel.{call}",
        "es": "{clinic}: le recordamos su cita el {date} a las {time}. Responda 1 o SÍ para confirmar, 2 o NO para cancelar.{call}",
        "pl": "{clinic}: przypominamy o wizycie {date}, godz. {time}. Odpisz 1 lub TAK, aby potwierdzić, 2 lub ANULUJ, aby odwołać.{call}",
        "tr": "{clinic}: {date} saat {time} randevunuzu hatırlatırız. Onay için 1 veya EVET, iptal için 2 veya İPTAL yazın.{call}",
        "ko": "{clinic}: {date} {time} 진료 예약 안내입니다. 확인은 1 또는 예, 취소는 2 또는 취소라고 답장해 주세요.{call}",
        "zh": "{clinic}：提醒您的预约时间为{date} {time}。确认请回复1或“是”，取消请回复2或“取消”。{call}",
    },
    "call": {
        "en": " Questions? Call {phone}.",
        "es": " ¿Preguntas? Llame al {phone}.",
        "pl": " Pytania: {phone}.",
        "tr": " Sorularınız için: {phone}.",
        "ko": " 문의: {phone}",
        "zh": " 咨询电话：{phone}",
    },
    "confirmed": {
        "en": "{clinic}: thank you, your appointment on {date} at {time} is confirmed.",
        "es": "{clinic}: gracias, su cita del {date} a las {time} está confirmada.",
        "pl": "{clinic}: dziękujemy, wizyta {date}, godz. {time} jest potwierdzona.",
        "tr": "{clinic}: teşekkürler, {date} saat {time} randevunuz onaylandı.",
        "ko": "{clinic}: 감사합니다. {date} {time} 예약이 확인되었습니다.",
        "zh": "{clinic}：谢谢，您{date} {time}的预约已确认。",
    },
    "cancelled": {
        "en": "{clinic}: your appointment on {date} at {time} is cancelled. Call us to book a new one.{call}",
        "es": "{clinic}: su cita del {date} a las {time} está cancelada. Llámenos para pedir otra.{call}",
        "pl": "{clinic}: wizyta {date}, godz. {time} została odwołana. Zadzwoń, aby umówić nowy termin.{call}",
        "tr": "{clinic}: {date} saat {time} randevunuz iptal edildi. Yeni randevu için bizi arayın.{call}",
        "ko": "{clinic}: {date} {time} 예약이 취소되었습니다. 새 예약은 전화로 해 주세요.{call}",
        "zh": "{clinic}：您{date} {time}的预约已取消。如需重新预约请来电。{call}",
    },
    "stopped": {
        "en": "{clinic}: you will get no more reminders. Call us to change this.{call}",
        "es": "{clinic}: ya no recibirá recordatorios. Llámenos para cambiarlo.{call}",
        "pl": "{clinic}: nie będziemy już wysyłać przypomnień. Zadzwoń, aby to zmienić.{call}",
        "tr": "{clinic}: artık hatırlatma almayacaksınız. Değiştirmek için bizi arayın.{call}",
        "ko": "{clinic}: 더 이상 안내 메시지를 보내지 않습니다. 변경하시려면 전화해 주세요.{call}",
        "zh": "{clinic}：您将不再收到提醒。如需更改请来电。{call}",
    },
}


#: Added to a text only when the clinic turned on ``contact.include_reason``.
REASON_TEXTS: dict[str, str] = {
    "en": " Visit: {reason}.",
    "es": " Motivo: {reason}.",
    "pl": " Cel wizyty: {reason}.",
    "tr": " Randevu nedeni: {reason}.",
    "ko": " 진료 내용: {reason}",
    "zh": " 就诊事由：{reason}",
}


def callback_digits(cfg: Config) -> str:
    """The clinic's number as read out: national digits, one by one ("" when not set)."""
    from appliance.reminders.when import digits_spoken
    from appliance.store.phones import display

    number = cfg.clinic.phone_number
    return digits_spoken(display(number, cfg.clinic.country)) if number else ""


def machine_prompt(cfg: Config) -> PromptRef:
    """The answering-machine message: the clinic's name and number, nothing else."""
    digits = callback_digits(cfg)
    return PromptRef.of("reminder_machine", callback=digits) if digits else PromptRef("reminder_machine_nonumber")


def refs(cfg: Config) -> list[PromptRef]:
    """The reminder prompts that do not depend on one visit (warmed with the IVR's)."""
    if not cfg.reminders.enabled:
        return []
    keys = ("reminder_hello", "reminder_menu", "reminder_confirmed", "reminder_cancelled", "reminder_desk")
    return [*(PromptRef(k) for k in keys), PromptRef("reminder_goodbye"), machine_prompt(cfg)]


def register_prompts() -> None:
    """Add the reminder calls' prompts to the IVR's catalogue (idempotent).

    ``appliance.reminders`` calls it when imported, so whatever places or
    plays a reminder call has them; the composition roots call it before
    the first config load, so the ``[prompts.texts]`` check knows their
    placeholders.
    """
    from appliance.reminders import followup_wording

    register_texts("appliance.reminders", TEXTS, PLACEHOLDERS, refs)
    register_texts("appliance.reminders.followup", followup_wording.TEXTS, PLACEHOLDERS, followup_wording.refs)
