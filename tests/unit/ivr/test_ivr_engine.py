"""The IVR session: menus, retries, barge-in, languages, time conditions, exits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appliance.clock import FakeClock
from appliance.config import load_config
from appliance.config.callflow import IvrNode
from appliance.ivr import (
    CancelTimer,
    EnterQueue,
    Flow,
    Hangup,
    Ivr,
    IvrSession,
    Phase,
    Play,
    PromptRef,
    SetLanguage,
    StartTimer,
    StartVoicemail,
    StopPlayback,
    TransferOut,
)
from appliance.ivr.hours import BusinessHours

OPEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # Monday 11:00 in Warsaw
CLOSED = datetime(2026, 3, 2, 20, 0, tzinfo=UTC)  # Monday 21:00 in Warsaw


def nodes() -> dict[str, IvrNode]:
    return {
        "hours": IvrNode(type="time_condition", if_open="welcome", if_closed="closed"),
        "welcome": IvrNode(type="playback", prompt="greeting", next="main"),
        "main": IvrNode(
            type="menu",
            prompt="main_menu",
            options={"1": "appointments", "2": "lang", "0": "desk", "9": "oncall", "*": "bye"},
            timeout_s=5.0,
            retries=2,
            fallback="desk",
        ),
        "lang": IvrNode(type="language", options={"1": "en", "2": "pl", "3": "zh"}, next="desk", retries=1),
        "appointments": IvrNode(type="queue", queue="appointments", priority=3),
        "desk": IvrNode(type="queue", queue="front-desk"),
        "oncall": IvrNode(type="transfer", number="+48600100200"),
        "bye": IvrNode(type="hangup"),
        "closed": IvrNode(type="voicemail", mailbox="after-hours", prompt="closed"),
    }


def make(moment: datetime = OPEN, night: bool = False, flow_nodes: dict[str, IvrNode] | None = None) -> IvrSession:
    clock = FakeClock(moment)
    hours = BusinessHours({d: ["08:00-16:00"] for d in range(5)}, ["12-25"], "Europe/Warsaw")
    ivr = Ivr(Flow("hours", flow_nodes or nodes()), hours, clock, default_language="pl", night_mode=night)
    return ivr.session("c1")


def at_menu(session: IvrSession) -> Play:
    """Start and play the greeting; return the menu's Play."""
    (greeting,) = session.start()
    assert isinstance(greeting, Play) and greeting.prompts == (PromptRef("greeting"),)
    (menu,) = session.on_prompt_done(greeting.play_id)
    assert isinstance(menu, Play)
    return menu


def timer_of(actions: list) -> StartTimer:
    (timer,) = [a for a in actions if isinstance(a, StartTimer)]
    return timer


def test_open_hours_greet_then_menu_then_queue_with_priority() -> None:
    s = make()
    menu = at_menu(s)
    assert menu.prompts == (PromptRef("main_menu"),) and menu.interruptible and menu.language == "pl"
    timer = timer_of(s.on_prompt_done(menu.play_id))
    assert timer.seconds == 5.0
    actions = s.on_digit("1")
    assert actions == [CancelTimer(timer.timer_id), EnterQueue("c1", "appointments", 3, "pl")]
    assert s.phase is Phase.DONE and s.outcome == EnterQueue("c1", "appointments", 3, "pl")
    assert s.path == ["hours", "welcome", "main", "key:1", "appointments"]


def test_digit_during_menu_prompt_barges_in() -> None:
    s = make()
    menu = at_menu(s)
    actions = s.on_digit("0")
    assert actions == [StopPlayback("c1", menu.play_id), EnterQueue("c1", "front-desk", 0, "pl")]


@pytest.mark.parametrize(
    ("events", "expected_path_tail", "final"),
    [
        # Three timeouts: prompt, repeat, repeat, then the fallback.
        (
            ["t", "t", "t"],
            ["timeout", "timeout", "timeout", "fallback", "desk"],
            EnterQueue("c1", "front-desk", 0, "pl"),
        ),
        # Invalid keys count like timeouts.
        (["7", "8", "t"], ["key:7", "key:8", "timeout", "fallback", "desk"], EnterQueue("c1", "front-desk", 0, "pl")),
        # A valid key on the last try still wins.
        (["t", "7", "1"], ["timeout", "key:7", "key:1", "appointments"], EnterQueue("c1", "appointments", 3, "pl")),
    ],
)
def test_menu_retries_then_fallback(events: list[str], expected_path_tail: list[str], final: object) -> None:
    s = make()
    menu = at_menu(s)
    actions = s.on_prompt_done(menu.play_id)
    last: list = []
    for event in events:
        if event == "t":
            last = s.on_timer(timer_of(actions).timer_id)
        else:
            last = s.on_digit(event)
        plays = [a for a in last if isinstance(a, Play)]
        if plays:  # the menu was repeated: let it finish to start the digit timer again
            actions = s.on_prompt_done(plays[0].play_id)
    assert last[-1] == final
    assert s.path[3:] == expected_path_tail


def test_invalid_key_plays_invalid_then_menu_again() -> None:
    s = make()
    menu = at_menu(s)
    actions = s.on_digit("5")
    assert actions[0] == StopPlayback("c1", menu.play_id)
    replay = actions[1]
    assert isinstance(replay, Play)
    assert replay.prompts == (PromptRef("invalid"), PromptRef("main_menu")) and replay.interruptible


def test_no_input_repeats_menu_without_invalid_notice() -> None:
    s = make()
    menu = at_menu(s)
    timer = timer_of(s.on_prompt_done(menu.play_id))
    (replay,) = s.on_timer(timer.timer_id)
    assert isinstance(replay, Play) and replay.prompts == (PromptRef("main_menu"),)


def test_digits_during_greeting_are_kept_and_applied_at_the_menu() -> None:
    s = make()
    (greeting,) = s.start()
    assert s.on_digit("1") == []  # greeting is not interrupted
    actions = s.on_prompt_done(greeting.play_id)
    assert actions == [EnterQueue("c1", "appointments", 3, "pl")]  # no menu prompt played


def test_language_menu_speaks_each_option_in_its_language_and_switches() -> None:
    s = make()
    at_menu(s)
    actions = s.on_digit("2")
    play = actions[-1]
    assert isinstance(play, Play)
    assert play.prompts == (
        PromptRef.of("language_option", language="en", key="1"),
        PromptRef.of("language_option", language="pl", key="2"),
        PromptRef.of("language_option", language="zh", key="3"),
    )
    actions = s.on_digit("3")
    assert actions[1:] == [SetLanguage("c1", "zh"), EnterQueue("c1", "front-desk", 0, "zh")]
    assert s.language == "zh"


def test_language_menu_without_choice_keeps_language() -> None:
    s = make()
    at_menu(s)
    play = s.on_digit("2")[-1]
    timer = timer_of(s.on_prompt_done(play.play_id))
    replay = s.on_timer(timer.timer_id)[-1]
    timer = timer_of(s.on_prompt_done(replay.play_id))
    actions = s.on_timer(timer.timer_id)  # retries=1: second silence falls to ``next``
    assert actions == [EnterQueue("c1", "front-desk", 0, "pl")]
    assert s.language == "pl"


@pytest.mark.parametrize(
    ("moment", "night", "first_prompt"),
    [
        (OPEN, False, "greeting"),
        (CLOSED, False, None),  # straight to after-hours voicemail
        (OPEN, True, None),  # night mode during hours
        (datetime(2026, 12, 25, 10, 0, tzinfo=UTC), False, None),  # holiday, a Friday
    ],
)
def test_time_condition(moment: datetime, night: bool, first_prompt: str | None) -> None:
    s = make(moment, night)
    actions = s.start()
    if first_prompt:
        assert isinstance(actions[0], Play) and actions[0].prompts[0].key == first_prompt
    else:
        assert actions == [StartVoicemail("c1", "after-hours", (PromptRef("closed"),), "pl")]
        assert s.path == ["hours", "closed"]


def test_night_mode_switch_applies_to_new_time_conditions() -> None:
    clock = FakeClock(OPEN)
    hours = BusinessHours({d: ["08:00-16:00"] for d in range(5)}, [], "Europe/Warsaw")
    ivr = Ivr(Flow("hours", nodes()), hours, clock, default_language="en")
    assert ivr.is_open()
    ivr.night_mode = True
    assert not ivr.is_open()
    assert isinstance(ivr.session("c9").start()[0], StartVoicemail)


def test_transfer_and_hangup_exits() -> None:
    s = make()
    at_menu(s)
    assert s.on_digit("9")[-1] == TransferOut("c1", "+48600100200")

    s = make()
    at_menu(s)
    bye = s.on_digit("*")[-1]
    assert isinstance(bye, Play) and bye.prompts == (PromptRef("goodbye"),) and not bye.interruptible
    assert s.on_digit("1") == []  # ignored while saying goodbye
    assert s.on_prompt_done(bye.play_id) == [Hangup("c1", "ivr-hangup")]


def test_a_failed_transfer_goes_on_at_its_fallback_or_nowhere() -> None:
    flow = {**nodes(), "oncall": IvrNode(type="transfer", number="+48600100200", fallback="closed")}
    s = make(flow_nodes=flow)
    assert s.transfer_failed() == []  # still in the menu: nothing to fall back from
    at_menu(s)
    s.on_digit("9")
    out = s.transfer_failed()
    assert out[-1] == StartVoicemail("c1", "after-hours", (PromptRef("closed"),), "pl")
    assert s.path[-2:] == ["transfer-failed", "closed"]
    assert s.transfer_failed() == []  # once only: the call is in voicemail now

    s = make()  # no fallback configured: the switchboard apologises and ends the call
    at_menu(s)
    s.on_digit("9")
    assert s.transfer_failed() == []


def test_stale_timer_and_play_reports_are_ignored() -> None:
    s = make()
    menu = at_menu(s)
    timer = timer_of(s.on_prompt_done(menu.play_id))
    s.on_digit("5")  # invalid: timer cancelled, menu replayed
    assert s.on_timer(timer.timer_id) == []  # the cancelled timer fired late
    assert s.on_prompt_done(menu.play_id) == []  # the old play reported late
    assert s.on_timer("ivr:other:1") == []


def test_caller_hangup_cancels_pending_timer_and_records_it() -> None:
    s = make()
    menu = at_menu(s)
    timer = timer_of(s.on_prompt_done(menu.play_id))
    assert s.on_hangup() == [CancelTimer(timer.timer_id)]
    assert s.path[-1] == "hangup" and s.phase is Phase.DONE
    assert s.on_digit("1") == [] and s.on_hangup() == []


def test_start_twice_does_nothing_the_second_time() -> None:
    s = make()
    assert s.start()
    assert s.start() == []


def test_bad_dtmf_is_ignored() -> None:
    s = make()
    at_menu(s)
    assert s.on_digit("12") == [] and s.on_digit("x") == []


def test_loop_through_menu_option_is_cut_off() -> None:
    flow = {
        "hours": IvrNode(type="menu", prompt="main_menu", options={"1": "again"}, fallback="end"),
        "again": IvrNode(type="playback", prompt="invalid", next="hours"),
        "end": IvrNode(type="hangup"),
    }
    s = make(flow_nodes=flow)
    actions = s.start()
    for _ in range(200):
        play = actions[-1]
        if isinstance(play, Hangup):
            break
        actions = s.on_digit("1") if play.interruptible else s.on_prompt_done(play.play_id)
    assert actions[-1] == Hangup("c1", "ivr-loop")


def test_default_config_flow_after_hours_goes_to_voicemail() -> None:
    cfg = load_config()  # America/New_York, 08:00-16:00 weekdays
    clock = FakeClock(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 22:00 EST Monday
    s = Ivr.from_config(cfg, clock).session("c1")
    closed = s.start()[0]
    emergency = s.on_prompt_done(closed.play_id)[0]
    assert emergency.prompts == (PromptRef("emergency"),)
    assert s.on_prompt_done(emergency.play_id) == [
        StartVoicemail("c1", "after-hours", (PromptRef("leave_message"),), "en")
    ]


def test_default_config_flow_in_hours_reaches_front_desk_on_silence() -> None:
    cfg = load_config()
    clock = FakeClock(datetime(2026, 3, 3, 15, 0, tzinfo=UTC))  # 10:00 EST Tuesday
    s = Ivr.from_config(cfg, clock).session("c1")
    actions = s.start()
    for _ in range(20):
        last = actions[-1]
        if isinstance(last, EnterQueue):
            break
        if isinstance(last, Play):
            actions = s.on_prompt_done(last.play_id)
        elif isinstance(last, StartTimer):
            actions = s.on_timer(last.timer_id)
    assert actions[-1] == EnterQueue("c1", "front-desk", 0, "en")
    assert s.path == [
        "hours",
        "welcome",
        "emergency",
        "main",
        "timeout",
        "timeout",
        "timeout",
        "fallback",
        "front-desk",
    ]
