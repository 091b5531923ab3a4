"""The data partition fault the image's clinicbox-data-fault.service records reaches doctor."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from appliance.cli import doctor as doctor_cli
from appliance.doctor.data_partition import data_partition_fault


def test_no_fault_file_means_no_result(tmp_path: Path) -> None:
    assert data_partition_fault(tmp_path / "absent") is None


def test_a_recorded_fault_is_a_fail_with_its_reason_and_a_fix(tmp_path: Path) -> None:
    fault = tmp_path / "clinicbox-data-fault"
    fault.write_text("the data partition cannot be mounted: no file system labelled clinicbox-data\n")
    result = data_partition_fault(fault)
    assert result is not None and result.status == "FAIL" and result.name == "data partition"
    assert "no file system labelled clinicbox-data" in result.detail
    assert "restore the last backup" in result.fix


def test_doctor_reports_the_fault_first_when_the_configuration_is_gone_with_the_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fault = tmp_path / "clinicbox-data-fault"
    fault.write_text("the data partition cannot be mounted: /dev/vda3 could not be mounted\n")
    monkeypatch.setattr(doctor_cli, "data_partition_fault", lambda: data_partition_fault(fault))
    code = doctor_cli.run(argparse.Namespace(config=str(tmp_path / "etc/clinicbox.toml"), json=True))
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["ok"] is False
    assert [c["name"] for c in out["checks"]] == ["data partition", "configuration"]
    assert "/dev/vda3 could not be mounted" in out["checks"][0]["detail"]
