"""`python -m custodes` is the same command line as the installed `custodes` script."""

import subprocess
import sys


def test_python_dash_m_runs_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "custodes", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "ledger" in result.stdout and "demo" in result.stdout
