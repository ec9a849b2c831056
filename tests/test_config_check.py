"""`redactor check`: a bad config or rule pack names the file and the key, and exits 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from redactor import ConfigError, load_config
from tests.engine_config import redactor_with

ROOT = Path(__file__).resolve().parent.parent

GOOD_RULE = """
[[rule]]
id = "order-token"
entity = "ORDER_TOKEN"
pattern = 'otk_[0-9a-f]{16}'
"""


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "redactor", *args, "check"]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_the_bundled_config_checks_clean() -> None:
    result = run_check()

    assert result.returncode == 0, result.stderr
    assert "card-number" in result.stdout and "email-address" in result.stdout


@pytest.mark.parametrize(
    ("toml", "key", "expected"),
    [
        ("[redact]\nmode = 'blur'\n", "redact.mode", "expected 'placeholder' or 'mask' or 'hmac'"),
        ("[redact]\nmdoe = 'mask'\n", "redact.mdoe", "unknown key"),
        ("[redact]\npacks = 'rules/*.toml'\n", "redact.packs", "expected a list"),
        ("[redakt]\n", "redakt", "unknown section"),
        (
            "[redact.rules.no-such-rule]\nmode = 'mask'\n",
            "redact.rules.no-such-rule",
            "no such rule",
        ),
        (
            "[redact.rules.card-number]\nkeep_last = 'four'\n",
            "redact.rules.card-number.keep_last",
            "expected an integer",
        ),
        (
            "[redact]\nplaceholder = '<{entity}:{value}>'\n",
            "redact.placeholder",
            "only {...} field is {entity}",
        ),
        ("[redact]\nplaceholder = '<{entity}{0}>'\n", "redact.placeholder", "{entity}"),
        (
            "[redact]\nwithheld_marker = '{bytes} {line}'\n",
            "redact.withheld_marker",
            "only {...} field is {bytes}",
        ),
        (
            "[redact.rules.card-number]\nplaceholder = '<{kind}>'\n",
            "redact.rules.card-number.placeholder",
            "{entity}",
        ),
    ],
)
def test_config_errors_name_file_and_key(
    tmp_path: Path, toml: str, key: str, expected: str
) -> None:
    config = write(tmp_path / "bad.toml", toml)

    result = run_check("--config", str(config))

    assert result.returncode == 2
    assert f"{config}: {key}: " in result.stderr
    assert expected in result.stderr


@pytest.mark.parametrize(
    ("rule", "key", "expected"),
    [
        (
            GOOD_RULE.replace("otk_[0-9a-f]{16}", "otk_[0-9a-f"),
            "rule[0].pattern",
            "does not compile",
        ),
        (GOOD_RULE + "validator = 'luhnish'\n", "rule[0].validator", "unknown validator 'luhnish'"),
        (GOOD_RULE + "score = 'high'\n", "rule[0].score", "expected a number"),
        (GOOD_RULE + "colour = 'red'\n", "rule[0].colour", "unknown key"),
        (
            GOOD_RULE.replace("otk_[0-9a-f]{16}", "(?P<token>otk_)"),
            "rule[0].pattern",
            "named groups",
        ),
        (
            "[[issuer]]\nbrand = 'X'\nprefixes = ['4a']\nlengths = [16]\n",
            "issuer[0].prefixes",
            "expected digits",
        ),
        (
            "[[issuer]]\nbrand = 'X'\nprefixes = ['4']\nlengths = [25]\n",
            "issuer[0].lengths",
            "from 12 to 19",
        ),
    ],
)
def test_rule_pack_errors_name_file_and_key(
    tmp_path: Path, rule: str, key: str, expected: str
) -> None:
    pack = write(tmp_path / "custom.toml", rule)
    config = write(tmp_path / "config.toml", '[redact]\npacks = ["custom.toml"]\n')

    result = run_check("--config", str(config))

    assert result.returncode == 2
    assert f"{pack}: {key}: " in result.stderr
    assert expected in result.stderr


def test_a_missing_config_file_is_reported(tmp_path: Path) -> None:
    result = run_check("--config", str(tmp_path / "nope.toml"))

    assert result.returncode == 2 and "file not found" in result.stderr


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    config = write(tmp_path / "config.toml", "[redact\n")

    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(config)


def test_a_custom_rule_pack_adds_a_detector_and_keeps_the_bundled_ones(tmp_path: Path) -> None:
    write(tmp_path / "custom.toml", GOOD_RULE)
    toml = '[redact]\npacks = ["custom.toml"]\n'

    out = redactor_with(tmp_path, toml).redact("token otk_0123456789abcdef card 4242424242424242")

    assert out == "token <ORDER_TOKEN> card <CREDIT_CARD>"


def test_bundled_packs_false_loads_only_the_configured_packs(tmp_path: Path) -> None:
    write(tmp_path / "custom.toml", GOOD_RULE)
    toml = '[redact]\npacks = ["custom.toml"]\nbundled_packs = false\n'

    out = redactor_with(tmp_path, toml).redact("token otk_0123456789abcdef card 4242424242424242")

    assert out == "token <ORDER_TOKEN> card 4242424242424242"


def test_a_custom_digits_only_rule_is_found_inside_a_rejected_card_candidate(
    tmp_path: Path,
) -> None:
    write(
        tmp_path / "ids.toml",
        "[[rule]]\nid = 'ssn'\nentity = 'US_SSN'\npattern = '[0-9]{3}-[0-9]{2}-[0-9]{4}'\n",
    )
    toml = '[redact]\npacks = ["ids.toml", "%s/*.toml"]\n' % (ROOT / "rules")

    out = redactor_with(tmp_path, toml).redact("x 4111-123-45-6789 y 4242424242424242")

    assert out == "x 4111-<US_SSN> y <CREDIT_CARD>"


def test_the_config_option_also_follows_the_subcommand(tmp_path: Path) -> None:
    config = write(tmp_path / "bad.toml", "[redact]\nmode = 'blur'\n")

    result = subprocess.run(
        [sys.executable, "-m", "redactor", "check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2 and f"{config}: redact.mode: " in result.stderr


def test_a_config_that_is_a_folder_is_reported(tmp_path: Path) -> None:
    result = run_check("--config", str(tmp_path))

    assert result.returncode == 2 and "Is a directory" in result.stderr
    assert "Traceback" not in result.stderr
