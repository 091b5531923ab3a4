"""The IVR: call flow, business hours, prompt catalogue and the TTS cache.

Pure and event-driven (no PJSUA2, no sleeping, no system clock): the
switchboard drives it from its PJSUA2 thread and executes what it returns.

Contract with the switchboard
-----------------------------
Build once: ``ivr = Ivr.from_config(cfg, clock)`` and
``library = PromptLibrary.from_config(cfg)``; call ``library.warm()`` on a
worker thread at start-up (and after prompts or config change). Set
``ivr.night_mode = True/False`` when the manager flips the switch.

Per answered inbound call: ``session = ivr.session(call_id, language=None)``
then feed it events, each returning ``list[IvrAction]`` to execute in order:

* ``session.start()``: the box answered.
* ``session.on_digit(d)``: one DTMF digit ("0"-"9", "*", "#"), already
  decoded from RFC 4733 or SIP INFO.
* ``session.on_prompt_done(play_id)``: the Play with that id finished
  (don't report plays you stopped because of StopPlayback).
* ``session.on_timer(timer_id)``: a StartTimer the session asked for fired.
* ``session.on_hangup()``: the caller hung up while in the IVR.

Actions (:mod:`appliance.ivr.actions`): ``Play(call_id, prompts, language,
interruptible, play_id)`` → play ``library.resolve(ref, language)`` for each
prompt in turn; ``StopPlayback(call_id, play_id)``; ``StartTimer(timer_id,
seconds)`` / ``CancelTimer(timer_id)``; ``SetLanguage(call_id, language)``;
and the exits: ``EnterQueue(call_id, queue, priority, language)`` → hand the
call to ``Acd.enter``; ``StartVoicemail(call_id, mailbox, greeting,
language)``; ``TransferOut(call_id, number)``; ``Hangup(call_id, reason)``.
After an exit, ``session.phase is Phase.DONE``; ``session.path`` is the
CDR's ``ivr_path`` and ``session.language`` its ``language``.

Engines send StopPlayback themselves when a digit barges in; ``interruptible``
only tells the switchboard that digits are expected during this prompt.
Timer ids are unique strings (``ivr:<call_id>:<n>``); unknown or stale ids
are ignored, so a timer that fires after being cancelled does no harm.
"""

from appliance.ivr.actions import (
    CancelTimer,
    EnterQueue,
    Hangup,
    IvrAction,
    Play,
    SetLanguage,
    StartTimer,
    StartVoicemail,
    StopPlayback,
    TransferOut,
)
from appliance.ivr.catalogue import (
    MINUTES_MAX,
    POSITION_MAX,
    PromptCatalogue,
    check_prompt_texts,
    position_prompt,
    register_texts,
    wait_prompt,
)
from appliance.ivr.engine import Ivr, IvrSession, Phase
from appliance.ivr.flow import Flow, flow_problems
from appliance.ivr.hours import BusinessHours
from appliance.ivr.library import PromptLibrary, WarmReport, config_refs
from appliance.ivr.prompts import PromptRef
from appliance.ivr.tts import EspeakSox, Synthesizer, wav_info

__all__ = [
    "MINUTES_MAX",
    "POSITION_MAX",
    "BusinessHours",
    "CancelTimer",
    "EnterQueue",
    "EspeakSox",
    "Flow",
    "Hangup",
    "Ivr",
    "IvrAction",
    "IvrSession",
    "Phase",
    "Play",
    "PromptCatalogue",
    "PromptLibrary",
    "PromptRef",
    "SetLanguage",
    "StartTimer",
    "StartVoicemail",
    "StopPlayback",
    "Synthesizer",
    "TransferOut",
    "WarmReport",
    "check_prompt_texts",
    "config_refs",
    "flow_problems",
    "position_prompt",
    "register_texts",
    "wait_prompt",
    "wav_info",
]
