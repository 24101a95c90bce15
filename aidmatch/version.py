"""Which code ran: the installed distribution's version, and the git commit when it runs from a checkout.

Recorded in the manifest, on every run's tags and as each asset's code version, so a night can be
traced to the code that produced it. An installed wheel has no checkout around it: its version alone.
"""

import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

_SOURCE_FOLDER = Path(__file__).resolve().parents[1]


@cache
def code_version() -> str:
    """`0.1.0`, or `0.1.0+g<commit>` when the package's folder is a git checkout of aidmatch."""
    version = metadata.version("aidmatch")
    if not (_SOURCE_FOLDER / ".git").exists() or not (_SOURCE_FOLDER / "pyproject.toml").is_file():
        return version  # an installed wheel: site-packages is not our checkout
    try:
        commit = subprocess.run(
            ["git", "-C", str(_SOURCE_FOLDER), "rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return version
    return f"{version}+g{commit}"
