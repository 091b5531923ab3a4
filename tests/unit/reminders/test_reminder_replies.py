"""SMS replies in six languages: what patients really type."""

from __future__ import annotations

import pytest

from appliance.reminders.replies import CANCEL, CONFIRM, STOP, fold, parse_reply

TABLE = [
    # English
    ("1", CONFIRM),
    ("YES", CONFIRM),
    ("yes", CONFIRM),
    ("Yes!", CONFIRM),
    ("Yes, thank you!", CONFIRM),
    (" y ", CONFIRM),
    ("2", CANCEL),
    ("NO", CANCEL),
    ("No.", CANCEL),
    ("cancel", CANCEL),
    ("Cancel my appointment please", CANCEL),
    ("STOP", STOP),
    # Spanish
    ("SÍ", CONFIRM),
    ("sí", CONFIRM),
    ("Si", CONFIRM),
    ("si, gracias", CONFIRM),
    ("¡Sí!", CONFIRM),
    ("no", CANCEL),
    ("Cancelar la cita", CANCEL),
    ("BAJA", STOP),
    # Polish
    ("TAK", CONFIRM),
    ("Tak.", CONFIRM),
    ("tak, dziękuję", CONFIRM),
    ("ANULUJ", CANCEL),
    ("anuluj wizytę", CANCEL),
    ("Odwołuję", CANCEL),
    ("nie", CANCEL),
    # Turkish (dotted and dotless i)
    ("EVET", CONFIRM),
    ("evet teşekkürler", CONFIRM),
    ("İPTAL", CANCEL),
    ("IPTAL", CANCEL),
    ("iptal", CANCEL),
    ("Hayır", CANCEL),
    ("HAYIR", CANCEL),
    # Korean
    ("예", CONFIRM),
    ("네", CONFIRM),
    ("네 감사합니다", CONFIRM),
    ("취소", CANCEL),
    ("취소합니다", CANCEL),
    ("예약취소", CANCEL),  # "reservation cancel", written together
    ("예약 확인", CONFIRM),
    # Mandarin
    ("是", CONFIRM),
    ("是的", CONFIRM),
    ("是的谢谢", CONFIRM),
    ("确认", CONFIRM),
    ("取消", CANCEL),
    ("取消预约", CANCEL),
    ("退订", STOP),
    # Full-width and emoji-decorated
    ("１", CONFIRM),
    ("２", CANCEL),
    ("ok 👍", CONFIRM),
    # Unclear: go to staff
    ("", None),
    ("   ", None),
    ("👍", None),
    ("yes no", None),
    ("1 2", None),
    ("tak ale czy mogę o 15?", None),
    ("can I come at 3 instead?", None),
    ("Who is this?", None),
    ("3", None),
    ("x" * 200, None),
]


@pytest.mark.parametrize(("text", "expected"), TABLE)
def test_reply_table(text: str, expected: str | None) -> None:
    assert parse_reply(text) == expected


def test_fold_removes_case_accents_and_punctuation_but_keeps_hangul_and_han() -> None:
    assert fold("¡SÍ!") == " si "
    assert fold("İPTAL") == "iptal"
    assert fold("Dziękuję, ŁÓDŹ") == "dziekuje  lodz"
    assert fold("취소!") == "취소 "
    assert fold("是的。") == "是的 "
