"""Log lines under systemd carry their syslog priority, so journald sees a warning as a warning
(the image forwards warnings to the box's screen: the first start's setup code is one)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from appliance import cli


def _record(level: int, msg: str) -> logging.LogRecord:
    return logging.LogRecord("appliance.app", level, __file__, 1, msg, None, None)


def test_each_level_gets_its_syslog_priority_on_every_line() -> None:
    fmt = cli.JournalFormatter()
    assert fmt.format(_record(logging.WARNING, "enter the setup code X")) == (
        "<4>WARNING appliance.app: enter the setup code X"
    )
    assert fmt.format(_record(logging.ERROR, "a\nb")) == "<3>ERROR appliance.app: a\n<3>b"
    assert fmt.format(_record(logging.INFO, "ok")).startswith("<6>INFO ")
    assert fmt.format(_record(logging.DEBUG, "ok")).startswith("<7>DEBUG ")


def test_the_journal_is_recognised_only_by_the_stream_systemd_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with (tmp_path / "stderr").open("w") as fake:
        st = os.fstat(fake.fileno())
        monkeypatch.setattr("sys.stderr", fake)
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino}")
        assert cli._stderr_is_journal()
        # A child of a unit that redirected stderr elsewhere inherits the variable, not the stream.
        monkeypatch.setenv("JOURNAL_STREAM", f"{st.st_dev}:{st.st_ino + 1}")
        assert not cli._stderr_is_journal()
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not cli._stderr_is_journal()
