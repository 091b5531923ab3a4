"""Buttons: contact bounce is ignored, destructive buttons need a 3-second hold."""

from __future__ import annotations

from appliance.panel.buttons import ButtonSpec, ButtonTracker

ANSWER = ButtonSpec("answer-next:desk1", pin=5)
NIGHT = ButtonSpec("night-mode", pin=6, hold_s=3.0)


def feed(tracker: ButtonTracker, samples: list[tuple[float, bool]]) -> list[float]:
    """Times at which the button acted."""
    return [t for t, level in samples if tracker.update(level, t)]


def test_a_press_acts_once_after_the_debounce_time() -> None:
    b = ButtonTracker(ANSWER, debounce_s=0.05)
    acted = feed(b, [(0.0, True), (0.02, True), (0.06, True), (0.5, True), (1.0, False), (1.1, False)])
    assert acted == [0.06]
    assert b.spec.station == "desk1"


def test_contact_bounce_shorter_than_debounce_is_ignored() -> None:
    b = ButtonTracker(ANSWER, debounce_s=0.05)
    assert feed(b, [(0.0, True), (0.01, False), (0.02, True), (0.03, False), (0.2, False)]) == []


def test_two_separate_presses_act_twice() -> None:
    b = ButtonTracker(ANSWER, debounce_s=0.05)
    samples = [(0.0, True), (0.1, True), (0.3, False), (0.4, False), (0.5, True), (0.6, True)]
    assert feed(b, samples) == [0.1, 0.6]


def test_hold_button_needs_three_seconds() -> None:
    b = ButtonTracker(NIGHT, debounce_s=0.05)
    short = [(0.0, True), (0.1, True), (2.9, True), (3.0, False), (3.2, False)]
    assert feed(b, short) == []
    held = [(10.0, True), (10.1, True), (12.0, True), (13.0, True), (14.0, True), (20.0, True)]
    assert feed(b, held) == [13.0]  # once per press, however long it is held


def test_a_bouncing_hold_still_counts_from_the_first_stable_press() -> None:
    b = ButtonTracker(NIGHT, debounce_s=0.05)
    samples = [(0.0, True), (0.01, False), (0.02, True), (1.0, True), (3.01, True), (3.03, True)]
    assert feed(b, samples) == [3.03]
