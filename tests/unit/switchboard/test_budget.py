"""The media-port budget: what the config's load asks of the conference bridge."""

from __future__ import annotations

from appliance.config import load_config
from appliance.switchboard import budget


def test_each_line_needs_its_leg_a_prompt_player_and_a_capture_music_is_shared() -> None:
    b = budget.MediaBudget(lines=100, music_sources=2)
    assert b.players == 102  # one prompt player per line, one player per music source (not per listener)
    assert b.ports == 1 + 100 + 102 + 100  # sound device slot + legs + players + captures


def test_music_sources_count_distinct_custom_files_plus_the_builtin_tune() -> None:
    assert budget.music_sources(["", "", "builtin"]) == 1
    assert budget.music_sources(["calm.wav", "calm.wav", "", "jazz.wav"]) == 3


def test_a_build_with_fewer_players_takes_fewer_lines() -> None:
    b = budget.MediaBudget(lines=32, music_sources=1)
    assert budget.lines_for_players(b, 256) == 32  # enough: every line
    assert budget.lines_for_players(b, 21) == 20  # 21 players: the music keeps one, 20 callers hear prompts
    assert budget.lines_for_players(b, 0) == 0


def test_the_budget_follows_the_config() -> None:
    cfg = load_config(text="[sip]\nmax_calls = 120\n", use_secrets=False)
    assert budget.for_config(cfg) == budget.MediaBudget(lines=120, music_sources=1)
