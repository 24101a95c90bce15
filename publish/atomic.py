"""Atomic publication of `OUTPUT/<as-of>/`: all files appear together, or none do.

A run writes everything into a hidden temporary folder beside the target and renames it into place
only when every file is written. A re-run of the same as-of replaces the folder whole; a run that
fails part-way leaves the last good output untouched (and removes its own temporary folder).
"""

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


def publish_atomically(output_root: Path, as_of: str, write: Callable[[Path], None]) -> Path:
    """Call `write(tmp_dir)`, then move tmp_dir to `output_root/as_of`; return the published folder."""
    output_root.mkdir(parents=True, exist_ok=True)
    target = output_root / as_of
    token = uuid.uuid4().hex[:8]
    staging = output_root / f".{as_of}.incoming-{token}"
    staging.mkdir()
    try:
        write(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    retired = output_root / f".{as_of}.replaced-{token}"
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return target
