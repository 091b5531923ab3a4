"""The one-time setup code: hashed at rest, one per channel, single use, void after ten wrong tries."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from appliance import setup_code
from appliance.errors import SetupCodeError


def test_a_code_is_kept_only_as_a_hash_in_a_private_file(tmp_path: Path) -> None:
    code = setup_code.new_code(tmp_path, "cli")
    assert len(setup_code.normalise(code)) == setup_code.LENGTH
    path = setup_code.code_path(tmp_path)
    text = path.read_text()
    assert setup_code.normalise(code) not in text.replace("-", "") and code not in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert set(json.loads(text)["codes"]) == {"cli"}


def test_a_code_works_once_and_voids_every_other(tmp_path: Path) -> None:
    console = setup_code.new_code(tmp_path, "console")
    usb = setup_code.new_code(tmp_path, "provisioning")
    setup_code.claim(tmp_path, usb.lower().replace("-", " "))  # as a person may type it
    with pytest.raises(SetupCodeError):
        setup_code.claim(tmp_path, usb)  # replayed
    with pytest.raises(SetupCodeError):
        setup_code.claim(tmp_path, console)
    assert not setup_code.pending(tmp_path)


def test_a_new_code_replaces_only_its_own_channels(tmp_path: Path) -> None:
    usb = setup_code.new_code(tmp_path, "provisioning")
    old_console = setup_code.new_code(tmp_path, "console")
    setup_code.new_code(tmp_path, "console")  # the core restarted
    with pytest.raises(SetupCodeError):
        setup_code.claim(tmp_path, old_console)
    setup_code.claim(tmp_path, usb)  # the stick's report still holds a valid code


def test_look_alike_letters_are_read_as_digits(tmp_path: Path) -> None:
    assert setup_code.normalise("abcd-oil0-1234") == "ABCD0110" + "1234"
    assert not set("ILOU") & set(setup_code.ALPHABET)


def test_ten_wrong_codes_void_every_code(tmp_path: Path) -> None:
    code = setup_code.new_code(tmp_path, "cli")
    for _ in range(setup_code.MAX_FAILURES - 1):
        with pytest.raises(SetupCodeError, match="wrong or already used"):
            setup_code.claim(tmp_path, "0000-0000-0000")
    assert setup_code.pending(tmp_path)
    with pytest.raises(SetupCodeError):
        setup_code.claim(tmp_path, "not even a code")
    assert not setup_code.pending(tmp_path)
    with pytest.raises(SetupCodeError, match="no setup code is waiting"):
        setup_code.claim(tmp_path, code)


def test_a_damaged_file_holds_no_valid_code(tmp_path: Path) -> None:
    code = setup_code.new_code(tmp_path, "cli")
    setup_code.code_path(tmp_path).write_text("{not json")
    with pytest.raises(SetupCodeError):
        setup_code.claim(tmp_path, code)


def test_an_unknown_channel_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="channel"):
        setup_code.new_code(tmp_path, "web")


@pytest.mark.skipif(os.geteuid() != 0, reason="only root gives files away")
def test_root_leaves_the_files_to_the_service_user(tmp_path: Path) -> None:
    """`clinicbox setup-code` and provisioning run as root; the web UI, as the service user, must still claim."""
    os.chown(tmp_path, 65534, 65534)
    setup_code.new_code(tmp_path, "cli")
    setup_code.void(tmp_path)
    setup_code.new_code(tmp_path, "provisioning")
    for name in (setup_code.FILE_NAME, setup_code.LOCK_NAME):
        st = (tmp_path / name).stat()
        assert (st.st_uid, st.st_gid) == (65534, 65534), name
