"""The ``bria-fleet sim`` command is registered and rejects bad options in one line."""

import subprocess
import sys


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bria_fleet", "sim", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_options() -> None:
    result = _run("--help")
    assert result.returncode == 0
    for option in ("--token", "--training-seconds", "--empty", "--error-rate", "--outage-seconds"):
        assert option in result.stdout


def test_invalid_option_is_a_one_line_error() -> None:
    result = _run("--error-rate", "3", "--port", "0")
    assert result.returncode == 1
    assert "Invalid simulator options" in result.stderr
    assert "Traceback" not in result.stderr
