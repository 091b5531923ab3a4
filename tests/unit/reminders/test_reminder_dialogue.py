"""The reminder call script: keys, answering machines, privacy before the first key."""

from __future__ import annotations

from typing import Any

from appliance.ivr import CancelTimer, EnterQueue, Hangup, Play, StartTimer, StopPlayback
from appliance.ivr.prompts import PromptRef
from appliance.reminders.dialogue import CANCELLED, CONFIRMED, DESK, VOICEMAIL, ReminderScript

WHEN = PromptRef.of("reminder_when", date="wtorek, 3 marca", time="9:30")
MACHINE = PromptRef.of("reminder_machine", callback="2 2 1 2 3 4 5 6 7")


def script(**kw: Any) -> ReminderScript:
    s = ReminderScript(41, "pl", when=WHEN, machine=MACHINE, **kw)
    s.call_id = "call-1"
    return s


def one(actions: list[Any], kind: type) -> Any:
    found = [a for a in actions if isinstance(a, kind)]
    assert len(found) == 1, actions
    return found[0]


def keys_of(play: Play) -> list[str]:
    return [ref.key for ref in play.prompts]


def finish_prompt(s: ReminderScript, actions: list[Any]) -> list[Any]:
    return s.on_prompt_done(one(actions, Play).play_id)


def heard(s: ReminderScript) -> list[Any]:
    """Answer, press a key at the greeting: the details and the menu play."""
    s.start()
    return s.on_digit("1")


def test_nothing_personal_is_said_before_a_key_is_pressed() -> None:
    s = script()
    hello = one(s.start(), Play)
    assert keys_of(hello) == ["reminder_hello"] and hello.interruptible and hello.language == "pl"
    details = one(s.on_digit("5"), Play)  # any key continues
    assert keys_of(details) == ["reminder_when", "reminder_menu"]
    assert details.prompts[0] == WHEN


def test_press_1_confirms_then_thanks_and_hangs_up() -> None:
    s = script()
    menu = heard(s)
    out = s.on_digit("1")
    assert StopPlayback("call-1", one(menu, Play).play_id) in out
    assert s.outcome == CONFIRMED
    thanks = one(out, Play)
    assert keys_of(thanks) == ["reminder_confirmed"] and not thanks.interruptible
    assert s.on_digit("2") == []  # too late to change it
    assert one(s.on_prompt_done(thanks.play_id), Hangup).call_id == "call-1"


def test_press_2_cancels() -> None:
    s = script()
    heard(s)
    out = s.on_digit("2")
    assert s.outcome == CANCELLED and keys_of(one(out, Play)) == ["reminder_cancelled"]
    assert isinstance(one(finish_prompt(s, out), Hangup), Hangup)


def test_press_3_joins_the_front_desk_queue_ahead_of_normal_callers() -> None:
    s = script(desk_queue="front-desk", desk_priority=7)
    heard(s)
    out = s.on_digit("3")
    assert s.outcome == DESK and keys_of(one(out, Play)) == ["reminder_desk"]
    assert one(finish_prompt(s, out), EnterQueue) == EnterQueue("call-1", "front-desk", 7, "pl")


def test_press_9_repeats_and_other_keys_say_invalid() -> None:
    s = script()
    heard(s)
    again = one(s.on_digit("9"), Play)
    assert keys_of(again) == ["reminder_when", "reminder_menu"] and s.outcome is None
    wrong = one(s.on_digit("7"), Play)
    assert keys_of(wrong) == ["invalid", "reminder_menu"]


def test_the_provider_is_named_only_after_a_key_and_only_when_configured() -> None:
    named = PromptRef.of("reminder_provider", provider="dr Nowak")
    s = script(provider=named)
    assert named not in one(s.start(), Play).prompts
    assert one(s.on_digit("1"), Play).prompts == (WHEN, named, PromptRef("reminder_menu"))


def test_no_key_at_all_leaves_the_answering_machine_message_then_hangs_up() -> None:
    s = script(hello_plays=2)
    out = s.start()
    for _ in range(2):
        timer = one(finish_prompt(s, out), StartTimer)
        assert timer.timer_id.startswith("rem:41:")
        out = s.on_timer(timer.timer_id)
    machine = one(out, Play)
    assert machine.prompts == (MACHINE,) and not machine.interruptible
    assert s.outcome == VOICEMAIL
    assert isinstance(one(s.on_prompt_done(machine.play_id), Hangup), Hangup)


def test_listening_without_choosing_ends_politely_without_an_outcome() -> None:
    s = script(menu_plays=2)
    out = heard(s)
    for _ in range(2):
        out = s.on_timer(one(finish_prompt(s, out), StartTimer).timer_id)
    goodbye = one(out, Play)
    assert keys_of(goodbye) == ["reminder_goodbye"]
    assert s.outcome is None and s.heard_details
    assert isinstance(one(s.on_prompt_done(goodbye.play_id), Hangup), Hangup)


def test_a_stale_timer_or_prompt_is_ignored_and_hangup_cancels_the_timer() -> None:
    s = script()
    out = s.start()
    timer = one(finish_prompt(s, out), StartTimer)
    assert s.on_timer("rem:41:999") == [] and s.on_prompt_done(12345) == []
    assert s.on_hangup() == [CancelTimer(timer.timer_id)]
    assert s.on_digit("1") == []


def test_an_answer_before_the_call_id_is_known_waits_for_it() -> None:
    s = ReminderScript(41, "en", when=WHEN, machine=MACHINE)
    poll = one(s.start(), StartTimer)
    assert s.on_digit("1") == []
    s.call_id = "late-id"
    hello = one(s.on_timer(poll.timer_id), Play)
    assert hello.call_id == "late-id" and keys_of(hello) == ["reminder_hello"]
