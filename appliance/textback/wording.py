"""The text-back SMS per language: the clinic's own text (``[textback].texts``) or the shipped one.

Only the clinic's name goes in: never why the caller might have called.
"""

from __future__ import annotations

from appliance.config import Config

#: The shipped texts; {clinic} is the clinic's name. Each fits one SMS
#: (160 GSM-7 characters, or 70 UCS-2 for Korean, Chinese, and Polish or
#: Turkish with diacritics, where two parts are allowed).
TEXTS: dict[str, str] = {
    "en": "{clinic}: sorry we missed your call. Reply YES and we will call you back.",
    "es": "{clinic}: sentimos no haber atendido su llamada. Responda SÍ y le llamaremos.",
    "pl": "{clinic}: przepraszamy, nie odebraliśmy. Odpisz TAK, a oddzwonimy.",
    "tr": "{clinic}: aramanızı kaçırdık, özür dileriz. Sizi aramamız için EVET yazın.",
    "ko": "{clinic}: 전화를 받지 못해 죄송합니다. 회신 전화를 원하시면 네 라고 보내 주세요.",
    "zh": "{clinic}：抱歉未能接听您的来电。回复“是”，我们会给您回电。",
}


def language_for(cfg: Config, patient_language: str | None, call_language: str | None) -> str:
    """The patient's language if known, else the one they chose on the phone, else the clinic's."""
    for lang in (patient_language, call_language):
        if lang and lang in cfg.clinic.languages:
            return lang
    return cfg.clinic.default_language


def text(cfg: Config, language: str) -> str:
    """The text-back in ``language``, filled in."""
    own = cfg.textback.texts.get(language, "").strip()
    template = own or TEXTS.get(language) or TEXTS["en"]
    return template.format(clinic=cfg.clinic.name)
