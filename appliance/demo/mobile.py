"""The demo's mobile network: texts and GSM calls to the clinic's modem.

Now and then a demo patient texts the clinic's mobile number (a reply to a
reminder, a question for staff, a long multipart message in another
script) or rings it; it talks to the simulated modem inside the core
through its control socket (see :mod:`appliance.modem.sim.control`), so the
SMS inbox, the reminder replies and the GSM line move in the demo too.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: What demo patients text: replies the reminders read, and things for staff.
TEXTS = (
    "TAK",
    "EVET",
    "예",
    "是",
    "Sí, confirmo",
    "İPTAL",
    "Can I move my appointment to Friday afternoon?",
    "Dzień dobry, czy mogę przyjść z córką? Ma gorączkę od wczoraj.",
    "안녕하세요, 다음 주 화요일 오전으로 예약을 바꿀 수 있을까요? 감사합니다.",
    "您好，我想把预约改到下周三下午，可以吗？谢谢！",
    "Hola, llegaré unos diez minutos tarde a mi cita de hoy. Lo siento mucho. "
    "¿Hay algún problema? Si es necesario puedo venir otro día de la semana que viene, "
    "por la mañana o por la tarde, lo que les venga mejor. Gracias.",
)


def send(path: Path, command: dict[str, Any]) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect(str(path))
        sock.sendall(json.dumps(command, ensure_ascii=False).encode() + b"\n")
        answer = dict(json.loads(sock.makefile("rb").readline()))
    if not answer.get("ok"):
        raise ValueError(str(answer.get("error", "refused")))
    return answer


class MobileNetwork:
    """Texts and rings the simulated modem every ``every_s`` seconds or so."""

    def __init__(
        self,
        control: Path,
        numbers: list[str],
        rng: random.Random,
        stop: threading.Event,
        every_s: float = 90.0,
        call_s: tuple[float, float] = (30.0, 90.0),
    ) -> None:
        self.control = control
        self.numbers = numbers or ["+12125550001"]
        self.rng = rng
        self.stop = stop
        self.every_s = every_s
        self.call_s = call_s  # how long a GSM caller stays on before hanging up

    def run(self) -> None:
        while not self.stop.wait(self.rng.uniform(0.5, 1.5) * self.every_s):
            if not self.control.exists():
                continue  # this demo has no simulated modem
            number = self.rng.choice(self.numbers)
            try:
                if self.rng.random() < 0.75:
                    text = self.rng.choice(TEXTS)
                    send(self.control, {"cmd": "sms", "from": number, "text": text})
                    log.info("mobile: a text to the clinic (%d characters)", len(text))
                else:
                    send(self.control, {"cmd": "call", "from": number})
                    log.info("mobile: a GSM call to the clinic")
                    if not self.stop.wait(self.rng.uniform(*self.call_s)):
                        send(self.control, {"cmd": "hangup"})
            except (OSError, ValueError) as exc:
                log.warning("mobile: the simulated modem did not answer (%s)", exc)
