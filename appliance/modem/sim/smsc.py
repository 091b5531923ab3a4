"""The simulated modem's SMS side: TS 27.005 commands, the SIM's message store, the SMS centre.

Sending decodes the host's PDU with the same decoder the box uses for
incoming messages (gammu's integration test checks it against an
independent implementation), hands out message references, and plays
the SMSC's delivery report. Incoming messages are stored on the
simulated SIM and announced with ``+CMTI``, or routed directly with
``+CMT``, as ``AT+CNMI`` asked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from appliance.modem.sim.state import CmdError, StoredSms
from appliance.modem.wire.pdu import PduError, SmsSubmit, decode_pdu
from appliance.modem.wire.pdunet import encode_deliver, encode_status_report

if TYPE_CHECKING:
    from appliance.modem.sim.simulator import ModemSimulator

Handler = Callable[["ModemSimulator", str, str], Any]

#: Returned by a handler that waits for a PDU after the ``>`` prompt.
PROMPT = object()


@dataclass(frozen=True)
class SentSms:
    """One SMS the host handed to the network."""

    mr: int
    number: str
    text: str
    encoding: str
    concat: tuple[int, int, int] | None  # (ref, total, seq)
    status_report: bool
    at: datetime


def _value(arg: str) -> str:
    return arg[1:].strip() if arg.startswith("=") else ""


def _need_sim(sim: ModemSimulator) -> None:
    st = sim.state
    if st.sim == "absent":
        raise CmdError("CMS", 310)
    if st.sim == "pin":
        raise CmdError("CMS", 311)
    if st.sim == "puk":
        raise CmdError("CMS", 316)


def _store_name(name: str) -> str:
    return "SM" if name == "MT" else name


# -- settings -------------------------------------------------------------------
def _cmgf(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f"+CMGF: {sim.state.cmgf}"]
    if arg == "=?":
        return ["+CMGF: (0,1)"]
    sim.state.cmgf = 1 if _value(arg) == "1" else 0
    return []


def _csms(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return ["+CSMS: 0,1,1,1"]
    if arg == "=?":
        return ["+CSMS: (0,1)"]
    return ["+CSMS: 1,1,1"]


def _cnmi(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "=?":
        return ["+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)"]
    if arg == "?":
        return ["+CNMI: " + ",".join(str(v) for v in sim.state.cnmi)]
    values = [int(v) if v.strip().isdigit() else 0 for v in _value(arg).split(",")]
    if len(values) > 3 and values[3] == 2 and not sim.state.stores_reports:
        raise CmdError("CMS", 303)  # operation not supported
    sim.state.cnmi = tuple((values + [0] * 5)[:5])
    return []


def _cpms(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    st = sim.state
    if arg == "=?":
        stores = '("SM","ME","MT")'
        listed = '("SM","ME","MT","SR")' if st.report_store == "SR" else stores
        return [f"+CPMS: {listed},{stores},{stores}"]
    _need_sim(sim)
    if arg == "?":
        return ["+CPMS: " + ",".join(f'"{m}",{len(st.store(_store_name(m)))},{st.capacity}' for m in st.cpms)]
    names = [v.strip().strip('"').upper() for v in _value(arg).split(",") if v.strip()]
    # The report storage is only read and deleted (the first storage), never written.
    readable = ("SM", "ME", "MT", "SR") if st.report_store == "SR" else ("SM", "ME", "MT")
    if any(n not in (readable if i == 0 else ("SM", "ME", "MT")) for i, n in enumerate(names)):
        raise CmdError("CMS", 302)
    st.cpms = (names + st.cpms[len(names) :])[:3]
    return ["+CPMS: " + ",".join(f"{len(st.store(_store_name(m)))},{st.capacity}" for m in st.cpms)]


def _csca(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?":
        return [f'+CSCA: "{sim.state.smsc}",145']
    if arg.startswith("="):
        sim.state.smsc = _value(arg).split(",")[0].strip('"')
    return []


def _noop(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    return []


# -- storage ------------------------------------------------------------------------
def _read_store(sim: ModemSimulator) -> dict[int, StoredSms]:
    return sim.state.store(_store_name(sim.state.cpms[0]))


_TEXT_STAT = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT"}


def _cmgl(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    _need_sim(sim)
    if arg == "=?":
        return ["+CMGL: (0-4)"] if sim.state.cmgf == 0 else ['+CMGL: ("REC UNREAD","REC READ","ALL")']
    raw = _value(arg).strip('"').upper() or "0"
    by_name = {v: k for k, v in _TEXT_STAT.items()}
    wanted = 4 if raw in ("4", "ALL") else by_name.get(raw, int(raw) if raw.isdigit() else 0)
    out: list[str] = []
    for index, msg in sorted(_read_store(sim).items()):
        if wanted != 4 and msg.stat != wanted:
            continue
        if sim.state.cmgf == 0:
            out += [f"+CMGL: {index},{msg.stat},,{msg.length}", msg.pdu]
        else:
            out += _text_entry(f"+CMGL: {index},", msg)
        if msg.stat == 0:
            msg.stat = 1
    return out


def _text_entry(head: str, msg: StoredSms) -> list[str]:
    decoded = decode_pdu(msg.pdu)
    number = getattr(decoded, "sender", "") or getattr(decoded, "number", "")
    return [f'{head}"{_TEXT_STAT.get(msg.stat, "REC READ")}","{number}",,""', decoded.text]  # type: ignore[union-attr]


def _cmgr(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    _need_sim(sim)
    if arg == "=?":
        return []
    index = int(_value(arg) or "-1")
    msg = _read_store(sim).get(index)
    if msg is None:
        if 0 <= index < sim.state.capacity:
            return []
        raise CmdError("CMS", 321)
    lines = [f"+CMGR: {msg.stat},,{msg.length}", msg.pdu] if sim.state.cmgf == 0 else _text_entry("+CMGR: ", msg)
    if msg.stat == 0:
        msg.stat = 1
    return lines


def _cmgd(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    _need_sim(sim)
    if arg == "=?":
        return ["+CMGD: (0-29),(0-4)"]
    parts = [p.strip() for p in _value(arg).split(",")]
    store = _read_store(sim)
    flag = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if flag == 0:
        index = int(parts[0]) if parts[0].isdigit() else -1
        if not 0 <= index < sim.state.capacity:
            raise CmdError("CMS", 321)
        store.pop(index, None)
    else:
        doomed = {1: {1}, 2: {1, 3}, 3: {1, 2, 3}, 4: {0, 1, 2, 3}}.get(flag, set())
        for index in [i for i, m in store.items() if m.stat in doomed]:
            del store[index]
    flush_undelivered(sim)
    return []


# -- sending ----------------------------------------------------------------------------
def _cmgs(sim: ModemSimulator, name: str, arg: str) -> object:
    if arg == "=?":
        return []
    _need_sim(sim)
    sim.state.pending_send = (name, _value(arg))
    return PROMPT


def finish_send(sim: ModemSimulator, body: str) -> tuple[list[str], CmdError | None]:
    """The PDU (or text) after the prompt arrived with Ctrl-Z."""
    st = sim.state
    command, param = st.pending_send
    if st.cmgf == 1:
        number = param.split(",")[0].strip('"')
        submit = SmsSubmit("", 0, number, body, "gsm7", None, False, None)
    else:
        try:
            decoded = decode_pdu(body, int(param.split(",")[0]) if param.split(",")[0].isdigit() else None)
        except PduError:
            return [], CmdError("CMS", 304)
        if not isinstance(decoded, SmsSubmit):
            return [], CmdError("CMS", 304)
        submit = decoded
    if command == "+CMGW":
        index = st.free_index(_store_name(st.cpms[1]))
        if index is None:
            return [], CmdError("CMS", 322)
        st.store(_store_name(st.cpms[1]))[index] = StoredSms(2, body, int(param) if param.isdigit() else 0)
        return [f"+CMGW: {index}"], None
    if st.sms_errors:
        code = st.sms_errors.pop(0)
        if code:
            return [], CmdError("CMS", code)
    if st.reg_stat not in (1, 5):
        return [], CmdError("CMS", 331)
    mr = st.next_mr
    st.next_mr = (mr + 1) % 256
    concat = (submit.concat.ref, submit.concat.total, submit.concat.seq) if submit.concat else None
    sent = SentSms(mr, submit.number, submit.text, submit.encoding, concat, submit.status_report, datetime.now(UTC))
    st.sent.append(sent)
    if submit.status_report:
        sim.later(st.report_delay_s, lambda: _report(sim, sent))
    return [f"+CMGS: {mr}"], None


def _report(sim: ModemSimulator, sent: SentSms) -> None:
    st = sim.state
    ds = st.cnmi[3]
    status = st.report_status.get(sent.number, 0x00)
    pdu, length = encode_status_report(sent.mr, sent.number, sent.at, datetime.now(UTC), status, smsc=st.smsc)
    st.reported.append(sent.mr)
    if ds == 1:
        sim.write(f"\r\n+CDS: {length}\r\n{pdu}\r\n".encode())
    elif ds == 2:
        store_name = st.report_store or _store_name(st.cpms[2])
        index = st.free_index(store_name)
        if index is not None:
            st.store(store_name)[index] = StoredSms(0, pdu, length)
            sim.emit(f'+CDSI: "{store_name}",{index}')


# -- receiving ------------------------------------------------------------------------
def deliver(
    sim: ModemSimulator,
    sender: str,
    text: str,
    *,
    encoding: str | None = None,
    order: list[int] | None = None,
    duplicate: list[int] | None = None,
    drop: list[int] | None = None,
    only: list[int] | None = None,
    ref: int | None = None,
    sent_at: datetime | None = None,
) -> int:
    """Send ``text`` from ``sender`` to the modem as the network would.

    Args:
        order: part numbers (1-based) in arrival order; default 1..n.
        duplicate: parts that arrive a second time at the end.
        drop: parts that never arrive.
        only: deliver just these parts (a late part of an earlier message,
            with the same ``ref`` and ``sent_at``).
        ref: concatenation reference; default the next one.
        sent_at: the sender's time stamp; default now.
    """
    st = sim.state
    if ref is None:
        ref = st.next_concat_ref
        st.next_concat_ref = (ref + 1) % 256
    stamp = sent_at or datetime.now(UTC)
    pdus = encode_deliver(sender, text, stamp, concat_ref=ref, smsc=st.smsc, encoding=encoding)
    seqs = order or list(range(1, len(pdus) + 1))
    seqs = [s for s in seqs if s not in (drop or []) and (only is None or s in only)] + list(duplicate or [])
    for seq in seqs:
        pdu, length = pdus[seq - 1]
        st.undelivered.append((pdu, length))
    flush_undelivered(sim)
    return len(seqs)


def flush_undelivered(sim: ModemSimulator) -> None:
    """Hand waiting messages to the modem while it can take them."""
    st = sim.state
    while st.undelivered and st.sim == "ready" and st.reg_stat in (1, 5):
        pdu, length = st.undelivered[0]
        if st.cnmi[1] == 2:
            sim.write(f"\r\n+CMT: ,{length}\r\n{pdu}\r\n".encode())
        else:
            store_name = _store_name(st.cpms[2])
            index = st.free_index(store_name)
            if index is None:
                return  # SIM full: the network keeps it and retries
            st.store(store_name)[index] = StoredSms(0, pdu, length)
            if st.cnmi[1] in (1, 3):
                sim.emit(f'+CMTI: "{store_name}",{index}')
        st.undelivered.pop(0)


def _cusd(sim: ModemSimulator, name: str, arg: str) -> list[str]:
    if arg == "?" or arg == "=?":
        return ["+CUSD: 1"]
    parts = _value(arg).split(",")
    if len(parts) > 1:
        sim.later(0.2, lambda: sim.emit('+CUSD: 0,"Balance: 10.00 PLN",15'))
    return []


HANDLERS: dict[str, Handler] = {
    "+CMGF": _cmgf,
    "+CSMS": _csms,
    "+CNMI": _cnmi,
    "+CPMS": _cpms,
    "+CSCA": _csca,
    "+CSDH": _noop,
    "+CSMP": _noop,
    "+CNMA": _noop,
    "+CMGL": _cmgl,
    "+CMGR": _cmgr,
    "+CMGD": _cmgd,
    "+CMGS": _cmgs,
    "+CMGW": _cmgs,
    "+CUSD": _cusd,
}
