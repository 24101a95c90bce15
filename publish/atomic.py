"""Atomic publication of `OUTPUT/<as-of>/`: all files appear together, or none do.

Invariant: at every instant `OUTPUT/<as-of>` is absent (never published), the last complete
publication, or the new complete one — never a partial folder, and never missing once published, even
when the process is killed at any moment.

A run writes everything into a hidden folder beside the target, `.<as-of>.incoming-<token>`, sets its
modes, and only then puts it in place: by renaming it when there is no target yet, else by exchanging
the two folders in one step (Linux `renameat2(RENAME_EXCHANGE)`), which leaves the old publication
under the hidden name to be removed. Where the system cannot exchange (other kernels, some file
systems) the old folder is first renamed to `.<as-of>.replaced-<token>`: a kill between that rename and
the next leaves no `<as-of>`, so `recover_interrupted` — called by the next run, holding the output
folder's lock, before anything else — moves it back. Any `.incoming-*` left is a publication that was
not completed (or the old one after an exchange) and is removed.
"""

import ctypes
import errno
import os
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

from aidmatch.publish.permissions import OWNER_ONLY, Modes

_LIBC = ctypes.CDLL(None, use_errno=True)
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
# `.<as-of>.incoming-…`, and `.<as-of>.feedback.incoming-…` of a blocked night's feedback folder
_LEFTOVER = re.compile(r"^\.(\d{4}-\d{2}-\d{2}(?:\.feedback)?)\.(incoming|replaced)-[0-9a-f]{8}$")


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one step; False where the system cannot (then nothing was done)."""
    renameat2 = getattr(_LIBC, "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def publish_atomically(
    output_root: Path, as_of: str, write: Callable[[Path], None], modes: Modes = OWNER_ONLY
) -> Path:
    """Call `write(tmp_dir)`, then put tmp_dir in place as `output_root/as_of`; return the published folder."""
    output_root.mkdir(parents=True, exist_ok=True)
    target = output_root / as_of
    token = uuid.uuid4().hex[:8]
    staging = output_root / f".{as_of}.incoming-{token}"
    staging.mkdir()
    try:
        write(staging)
        modes.apply_tree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if not target.exists():
        staging.rename(target)
    elif _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # now the previous publication
    else:
        retired = output_root / f".{as_of}.replaced-{token}"
        target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    return target


def recover_interrupted(output_root: Path) -> list[str]:
    """Undo what a killed publication left in `output_root`; what was done, one line each.

    Only while holding the output folder's lock: a running publication's folders look the same.
    """
    done = []
    for path in sorted(output_root.iterdir()) if output_root.is_dir() else []:
        match = _LEFTOVER.match(path.name)
        if not match or not path.is_dir() or path.is_symlink():
            continue
        as_of, kind = match.groups()
        if kind == "replaced" and not (output_root / as_of).exists():
            path.rename(output_root / as_of)
            done.append(f"restored the publication of {as_of} from {path.name}")
        else:
            shutil.rmtree(path)
            done.append(f"removed {path.name}")
    return done
