import json
import subprocess
import sys

import jsonschema
import pytest

pytestmark = pytest.mark.unit


def test_schema_export_writes_valid_json_schema_for_every_message(tmp_path):
    out = subprocess.run([sys.executable, "-m", "im_cli.main", "contracts", "schema",
                          "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    assert "wrote" in out.stdout
    files = sorted(tmp_path.glob("*.json"))
    assert any(f.name == "contracts.platform.DeadLetter.json" for f in files)
    for f in files:
        jsonschema.Draft202012Validator.check_schema(json.loads(f.read_text()))
    dead = json.loads((tmp_path / "contracts.platform.DeadLetter.json").read_text())
    validator = jsonschema.Draft202012Validator(dead)
    assert list(validator.iter_errors({"service": "x"}))  # required fields missing


def test_unknown_service_is_a_clear_error():
    out = subprocess.run([sys.executable, "-m", "im_cli.main", "run", "no-such-service"],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "no service named 'no-such-service' is installed" in out.stderr


def test_bad_setting_is_a_clear_error():
    out = subprocess.run([sys.executable, "-m", "im_cli.main", "run", "x"],
                         capture_output=True, text=True,
                         env={"IM_NATS_URL": "http://nope", "PATH": ""})
    assert out.returncode == 2
    assert "IM_NATS_URL must be a URL" in out.stderr
