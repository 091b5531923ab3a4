"""The simulated modem's state: settings, SIM, network, storage, calls."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Mode(enum.Enum):
    COMMAND = "command"
    PDU_INPUT = "pdu-input"


#: A handler's result meaning "no answer at all" (a SIM that never answers).
SILENT = object()


class CmdError(Exception):
    """A command fails: ``kind`` ERROR, CME or CMS, with a code."""

    def __init__(self, kind: str, code: int = 0) -> None:
        super().__init__(f"{kind} {code}")
        self.kind = kind
        self.code = code


def arg_value(arg: str) -> str:
    """The part of an AT argument after ``=``: ``=1,"x"`` → ``1,"x"``."""
    return arg[1:].strip() if arg.startswith("=") else ""


def arg_ints(arg: str) -> list[int]:
    """An AT argument's comma-separated numbers; what is not a number reads as 0."""
    out = []
    for part in arg_value(arg).split(","):
        part = part.strip().strip('"')
        out.append(int(part) if part.lstrip("-").isdigit() else 0)
    return out


def need_sim(sim: str) -> None:
    """Refuse a command that needs the SIM (``sim`` is the SIM's state) as a real modem does."""
    if sim == "absent":
        raise CmdError("CME", 10)
    if sim == "pin":
        raise CmdError("CME", 11)
    if sim == "puk":
        raise CmdError("CME", 12)


@dataclass
class StoredSms:
    stat: int  # 0 unread, 1 read, 2 unsent, 3 sent
    pdu: str
    length: int


@dataclass
class SimCall:
    index: int
    outgoing: bool
    state: str  # dialing, alerting, incoming, waiting, active, held
    number: str


PROFILES = {
    "ec25": {
        "manufacturer": "Quectel",
        "model": "EC25",
        "revision": "EC25EFAR06A08M4G",
    },
    "sim7600": {
        "manufacturer": "SIMCOM INCORPORATED",
        "model": "SIMCOM_SIM7600E-H",
        "revision": "LE20B04SIM7600M22",
    },
    "e173": {
        "manufacturer": "huawei",
        "model": "E173",
        "revision": "11.126.85.00.209",
    },
    "le910": {  # a modem ClinicBox knows no voice path for
        "manufacturer": "Telit",
        "model": "LE910C1-EU",
        "revision": "25.21.660",
    },
}

#: Profiles whose call voice is PCM on a second serial port (the simulator's voice pty).
SERIAL_PCM_PROFILES = ("sim7600", "e173")


@dataclass
class SimState:
    """Everything the simulated modem remembers. SIM storage and the
    network side survive a power cycle; the settings do not."""

    profile: str = "ec25"
    imei: str = "866758041234567"
    imsi: str = "260021234567890"
    iccid: str = "8948022123456789012"
    pin: str = ""
    puk: str = "12345678"
    smsc: str = "+48790998250"
    operator: str = "Orange PL"
    act: int = 7
    # settings (reset at power-on)
    echo: bool = True
    cmee: int = 0
    cmgf: int = 0
    cscs: str = "GSM"
    clip: bool = False
    cnmi: tuple[int, ...] = (0, 0, 0, 0, 0)
    creg_n: int = 0
    cereg_n: int = 0
    cgreg_n: int = 0
    cfun: int = 1
    ctzu: int = 0
    mode: Mode = Mode.COMMAND
    pending_send: tuple[str, str] = ("", "")
    # SIM and network
    sim: str = "ready"  # ready, pin, puk, absent
    pin_tries: int = 3
    pin_entries: int = 0  # AT+CPIN=<pin> commands received, right or wrong
    pin_error: int = 0  # a faulty SIM: answer every PIN with +CME ERROR: <this>
    pin_silent: bool = False  # a faulty SIM: never answer a PIN
    network: bool = True
    network_sticky_loss: bool = False
    reg_stat: int = 0
    rssi: int = 21
    nitz: bool = True
    tz_quarters: int = 4
    # storage and traffic
    storage: dict[str, dict[int, StoredSms]] = field(default_factory=lambda: {"SM": {}, "ME": {}})
    capacity: int = 30
    cpms: list[str] = field(default_factory=lambda: ["SM", "SM", "SM"])
    # Where delivery reports are stored (AT+CNMI ds=2): "SR" on SIMCom, else
    # the storage new messages go to (Quectel). Set from the profile.
    report_store: str = ""
    stores_reports: bool = True  # False: refuses AT+CNMI ds=2, as some older modems do
    reported: list[int] = field(default_factory=list)  # message references the network reported on
    next_mr: int = 0
    next_concat_ref: int = 40
    sent: list = field(default_factory=list)
    report_status: dict[str, int] = field(default_factory=dict)
    report_delay_s: float = 0.2
    undelivered: list[tuple[str, int]] = field(default_factory=list)
    calls: list[SimCall] = field(default_factory=list)
    busy_numbers: set[str] = field(default_factory=set)
    call_waiting: bool = False  # network side (AT+CCWA=..,1): second callers wait instead of hearing busy
    ccwa_urc: bool = False  # AT+CCWA=1: the waiting caller is presented with +CCWA (reset at power-on)
    ccwa_silent: bool = False  # the network never answers a call-waiting request
    sending_late: bool = False  # a send whose answer comes late: the modem takes no input until then
    turned_away: list[str] = field(default_factory=list)  # second callers that heard busy
    answer_delay_s: float = 0.3
    register_delay_s: float = 0.15
    dtmf: str = ""
    # voice path (appliance/modem/sim/audio.py)
    uac_stored: bool = True  # Quectel USBCFG's UAC flag as stored (survives restarts)
    uac_active: bool = True  # what the running firmware enumerated with (the stored flag at power-on)
    qpcmv: str = ""  # AT+QPCMV: "1,2" = voice over USB audio (reset at power-on)
    cpcmreg: bool = False  # SIMCom: PCM on the voice port (off at power-on and after each call)
    ddsetex: bool = False  # Huawei: PCM on the voice port (off at power-on and after each call)
    voice_firmware: bool = True  # Huawei: the firmware has voice (AT^CVOICE)
    voice_errors: set[str] = field(default_factory=set)  # voice commands answered ERROR (faults)
    voice_noise: bool = False  # voice queries answered with truncated lines (faults)
    # faults
    hung: bool = False
    wedged: bool = False  # a hang only a power cut clears
    slow_s: float = 0.0
    drop_answers: int = 0
    sms_errors: list[int] = field(default_factory=list)
    late_sms: list[float | None] = field(default_factory=list)  # delays of the next +CMGS answers
    booted_at: datetime | None = None

    def power_on(self) -> None:
        self.echo = True
        self.cmee = 0
        self.cmgf = 0
        self.cscs = "GSM"
        self.clip = False
        self.cnmi = (0, 0, 0, 0, 0)
        self.creg_n = self.cereg_n = self.cgreg_n = 0
        self.cfun = 1
        self.mode = Mode.COMMAND
        self.hung = self.wedged
        self.slow_s = 0.0
        self.drop_answers = 0
        self.calls.clear()
        self.ccwa_urc = False
        self.uac_active = self.uac_stored
        self.qpcmv = ""
        self.cpcmreg = self.ddsetex = False
        self.sending_late = False
        self.reg_stat = 0
        if self.network_sticky_loss:
            self.network = True
            self.network_sticky_loss = False
        if self.sim in ("ready", "pin") and self.pin:
            self.sim = "pin"

    def cpin_text(self) -> str:
        return {"ready": "READY", "pin": "SIM PIN", "puk": "SIM PUK"}.get(self.sim, "NOT INSERTED")

    def store(self, name: str) -> dict[int, StoredSms]:
        return self.storage.setdefault(name, {})

    def free_index(self, name: str) -> int | None:
        slots = self.store(name)
        for i in range(self.capacity):
            if i not in slots:
                return i
        return None
