"""The root of the configuration and the rules that span several sections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from appliance.config.callflow import (
    HoursSettings,
    IvrSettings,
    PromptsSettings,
    QueueSettings,
    VoicemailSettings,
    prompt_problems,
    silent_loops,
)
from appliance.config.contact import ContactSettings, TextbackSettings, contact_checks
from appliance.config.core import (
    ClinicSettings,
    ClockSettings,
    ControlSettings,
    LoggingSettings,
    PathsSettings,
    RetentionSettings,
    StoreSettings,
    WebSettings,
)
from appliance.config.edge import EdgeSettings, edge_checks
from appliance.config.feeds import FeedSettings, feed_checks
from appliance.config.followup import FollowupSettings, followup_checks
from appliance.config.modem import ModemSettings, modem_checks
from appliance.config.panel import PanelSettings, panel_checks
from appliance.config.provisioning import ProvisioningSettings
from appliance.config.reminders import ReminderSettings, reminder_checks
from appliance.config.schema import setting
from appliance.config.simulation import simulation_checks
from appliance.config.sip_tls import tls_checks
from appliance.config.telephony import SipSettings, StationSettings, TrunkSettings
from appliance.config.waitlist import WaitlistSettings, waitlist_checks

EMERGENCY_BY_COUNTRY = {"US": "911", "CA": "911", "KR": "119", "CN": "120", "MX": "911"}

#: Collections a user defines wholesale (their table replaces the default).
REPLACED_COLLECTIONS = frozenset(
    {"queues", "stations", "ivr.nodes", "prompts.texts", "reminders.simulator.keys", "feeds.hl7.senders"}
)


@dataclass(frozen=True)
class Config:
    """Everything the box reads from ``clinicbox.toml`` (merged over defaults).

    Example:
        >>> from appliance.config import load_config
        >>> cfg = load_config(overrides={"clinic": {"name": "Przychodnia"}})
        >>> cfg.clinic.name
        'Przychodnia'
    """

    config_version: int = setting(doc="Format version of this file.", min=1, max=1)
    simulate: bool = setting(
        doc="A demo or test box: simulated hardware (modem, GPIO) everywhere, and the only box that may "
        "use simulated devices (set in clinicbox.toml by the demo and tests; never by the web UI or a bundle)."
    )
    clinic: ClinicSettings = setting(doc="The clinic.")
    paths: PathsSettings = setting(doc="Where things live.")
    store: StoreSettings = setting(doc="The encrypted patient store.")
    retention: RetentionSettings = setting(doc="How long data is kept.")
    clock: ClockSettings = setting(doc="Time source.")
    logging: LoggingSettings = setting(doc="Logging.")
    web: WebSettings = setting(doc="The web UI.")
    control: ControlSettings = setting(doc="The control socket.")
    sip: SipSettings = setting(doc="SIP transport.")
    trunk: TrunkSettings = setting(doc="The SIP trunk.")
    stations: dict[str, StationSettings] = setting(doc="Agent stations (headsets, desk phones) by id.")
    hours: HoursSettings = setting(doc="Business hours.")
    queues: dict[str, QueueSettings] = setting(doc="Call queues by id.")
    ivr: IvrSettings = setting(doc="The call flow.")
    voicemail: VoicemailSettings = setting(doc="Voicemail.")
    prompts: PromptsSettings = setting(doc="Prompts and text-to-speech.")
    panel: PanelSettings = setting(doc="Status LEDs and panel buttons.")
    provisioning: ProvisioningSettings = setting(doc="USB-stick provisioning.")
    modem: ModemSettings = setting(doc="The GSM/LTE modem: fallback calls and SMS.")
    reminders: ReminderSettings = setting(doc="Appointment reminders by call and SMS.")
    edge: EdgeSettings = setting(doc="The SIP edge (Kamailio) in front of the core.")

    feeds: FeedSettings = setting(doc="Appointments from the clinic's own system (HL7 v2 over MLLP).")

    contact: ContactSettings = setting(doc="Limits every message to a patient obeys (caps, opt-out, mobiles only).")
    textback: TextbackSettings = setting(doc="One SMS to callers the clinic missed.")
    followup: FollowupSettings = setting(doc="One offer to rebook for a visit marked as a no-show.")
    waitlist: WaitlistSettings = setting(doc="Freed slots offered by SMS to waitlisted patients.")

    # Derived locations -------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.paths.state_dir / "clinicbox.db"

    @property
    def media_dir(self) -> Path:
        """Encrypted voicemail and recordings."""
        return self.paths.state_dir / "media"

    @property
    def prompt_cache_dir(self) -> Path:
        if self.prompts.cache_dir:
            return Path(self.prompts.cache_dir)
        return self.paths.state_dir / "prompts" / "cache"

    @property
    def custom_prompts_dir(self) -> Path:
        return self.paths.state_dir / "prompts" / "custom"

    @property
    def backup_dir(self) -> Path:
        return self.paths.state_dir / "backups"

    @property
    def control_socket(self) -> Path:
        return self.paths.run_dir / "control.sock"

    @property
    def emergency_number(self) -> str:
        return self.clinic.emergency_number or EMERGENCY_BY_COUNTRY.get(self.clinic.country, "112")


CrossCheck = Callable[[Config], Iterator[tuple[str, str]]]


def _languages(cfg: Config) -> Iterator[tuple[str, str]]:
    if not cfg.clinic.languages:
        yield "clinic.languages", "at least one language is needed"
    if cfg.clinic.default_language not in cfg.clinic.languages:
        yield (
            "clinic.default_language",
            f"{cfg.clinic.default_language!r} is not in clinic.languages ({', '.join(cfg.clinic.languages)})",
        )


def _station_queues(cfg: Config) -> Iterator[tuple[str, str]]:
    known = sorted(cfg.queues)
    for sid, station in cfg.stations.items():
        for i, q in enumerate(station.queues):
            if q not in cfg.queues:
                yield (
                    f"stations.{sid}.queues.{i}",
                    f'unknown queue "{q}"; known: {", ".join(known)}',
                )


def _queue_mailboxes(cfg: Config) -> Iterator[tuple[str, str]]:
    for qid, queue in cfg.queues.items():
        if queue.mailbox not in cfg.voicemail.mailboxes:
            yield (
                f"queues.{qid}.mailbox",
                f'unknown mailbox "{queue.mailbox}"; known: {", ".join(cfg.voicemail.mailboxes)}',
            )


def _ivr_graph(cfg: Config) -> Iterator[tuple[str, str]]:
    nodes = cfg.ivr.nodes
    names = sorted(nodes)
    if cfg.ivr.entry not in nodes:
        yield "ivr.entry", f'unknown node "{cfg.ivr.entry}"; known: {", ".join(names)}'

    def ref(key: str, target: str, required: bool = True) -> Iterator[tuple[str, str]]:
        if not target:
            if required:
                yield key, "missing: name the node that follows"
        elif target not in nodes:
            yield key, f'unknown node "{target}"; known: {", ".join(names)}'

    for name, node in nodes.items():
        base = f"ivr.nodes.{name}"
        if node.type == "playback":
            yield from ref(f"{base}.next", node.next)
        elif node.type == "menu":
            if not node.options:
                yield f"{base}.options", "a menu needs at least one option"
            for digit, target in node.options.items():
                if digit not in "0123456789*#" or len(digit) != 1:
                    yield f"{base}.options.{digit}", "menu keys are single digits 0-9, * or #"
                yield from ref(f"{base}.options.{digit}", target)
            yield from ref(f"{base}.fallback", node.fallback)
        elif node.type == "language":
            for digit, lang in node.options.items():
                if lang not in cfg.clinic.languages:
                    yield f"{base}.options.{digit}", f'language "{lang}" is not in clinic.languages'
            yield from ref(f"{base}.next", node.next)
        elif node.type == "time_condition":
            yield from ref(f"{base}.if_open", node.if_open)
            yield from ref(f"{base}.if_closed", node.if_closed)
        elif node.type == "queue":
            if node.queue not in cfg.queues:
                yield (
                    f"{base}.queue",
                    f'unknown queue "{node.queue}"; known: {", ".join(sorted(cfg.queues))}',
                )
        elif node.type == "voicemail":
            if node.mailbox not in cfg.voicemail.mailboxes:
                yield (
                    f"{base}.mailbox",
                    f'unknown mailbox "{node.mailbox}"; known: {", ".join(cfg.voicemail.mailboxes)}',
                )
        elif node.type == "transfer" and not node.number:
            yield f"{base}.number", "a transfer needs the number to call"


def _trunk(cfg: Config) -> Iterator[tuple[str, str]]:
    if cfg.trunk.enabled and not cfg.trunk.registrar:
        yield (
            "trunk.registrar",
            "the trunk is enabled but has no registrar; set it or set trunk.enabled = false",
        )
    if cfg.trunk.transport == "tls" and not cfg.sip.tls:
        yield "trunk.transport", "TLS to the provider needs sip.tls = true"
    if cfg.trunk.enabled and cfg.trunk.register and not cfg.trunk.username:
        yield "trunk.username", "the trunk registers but has no user name; set it or set trunk.register = false"


def _callflow(cfg: Config) -> Iterator[tuple[str, str]]:
    """IVR loops a silent caller never leaves, prompt-less nodes.

    The prompt texts' check needs the prompt catalogue, which sits above
    the config: it is handed in (:func:`appliance.config.register_check`).
    """
    yield from prompt_problems(cfg.ivr.nodes)
    yield from silent_loops(cfg.ivr.nodes)


CROSS_CHECKS: list[CrossCheck] = [
    _languages,
    _station_queues,
    _queue_mailboxes,
    _ivr_graph,
    _trunk,
    panel_checks,
    _callflow,
    modem_checks,
    reminder_checks,
    simulation_checks,
    tls_checks,
    edge_checks,
    feed_checks,
    contact_checks,
    followup_checks,
    waitlist_checks,
]
