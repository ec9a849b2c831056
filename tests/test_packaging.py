"""A plain install, with no checkout beside it, still finds the rule packs and the config."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    command = [
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(out),
        str(ROOT),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    (built,) = out.glob("redactor-*.whl")
    return built


def test_the_wheel_carries_the_data_folders(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    for data in ("config.toml", "rules/cards.toml", "rules/stripe.toml", "rules/email.toml"):
        assert f"redactor/_data/{data}" in names
    assert "redactor/py.typed" in names
    assert not any(name.startswith(("rules/", "alerts/")) for name in names)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the C++ loop is built on Linux")
def test_the_wheel_carries_the_cpp_scan_loop_and_is_tagged_for_this_platform(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert any(name.startswith("redactor/_native.") and name.endswith(".so") for name in names)
    assert "-py3-none-any" not in wheel.name


def test_an_installed_wheel_redacts_with_its_bundled_rules(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # The unpacked wheel goes first on the path, so the source checkout cannot be what loads.
    code = (
        f"import sys; sys.path.insert(0, {str(site)!r})\n"
        "import redactor, redactor._resources as resources\n"
        "print(resources.data_dir())\n"
        "print(redactor.redact('card 4242424242424242 jane@example.com'))\n"
        "print(redactor.default_redactor().scan_loop)\n"
    )

    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )

    assert result.returncode == 0, result.stderr
    data_dir, redacted, scan_loop = result.stdout.splitlines()
    assert Path(data_dir) == site / "redactor" / "_data"
    assert redacted == "card <CREDIT_CARD> <EMAIL_ADDRESS>"
    assert scan_loop == ("C++" if sys.platform.startswith("linux") else "Python")
