"""Who may read what a run writes: the owner only (files 0600, folders 0700), or a group for the lists.

The lists and the work databases hold names, IDs, phones and addresses (SPEC section 5). A run works
under umask 077, so whatever it creates — DuckDB's database, WAL and spill files, openpyxl's workbooks,
the CSVs DuckDB's `COPY` writes — is born owner-only, also when the run is killed half-way. Modes are
set explicitly only where the umask cannot reach: files that earlier versions left readable, and the
published lists when `run.output_group` names a group that may read them (0640 / 0750, that group).
Work files stay owner-only even then: a work database is a full copy of every extract, which the
people reading the lists do not need.
"""

import grp
import os
import stat
from dataclasses import dataclass
from pathlib import Path

RUN_UMASK = 0o077


@dataclass(frozen=True)
class Modes:
    file: int = 0o600
    folder: int = 0o700
    gid: int | None = None  # the group that may read, or None: the owner only

    @classmethod
    def for_group(cls, group: str | None) -> "Modes":
        """Owner only without a group; group-readable (0640 / 0750) with one (checked in settings)."""
        return cls() if group is None else cls(0o640, 0o750, grp.getgrnam(group).gr_gid)

    def apply(self, path: Path) -> None:
        """Set the mode (and group) of one file or folder; symbolic links are left alone."""
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            return
        mode = self.folder if stat.S_ISDIR(info.st_mode) else self.file
        if self.gid is not None and info.st_gid != self.gid:
            os.chown(path, -1, self.gid)
        if stat.S_IMODE(info.st_mode) != mode:
            os.chmod(path, mode)

    def apply_tree(self, root: Path) -> None:
        """`apply` to `root` and everything under it."""
        self.apply(root)
        for folder, folders, files in os.walk(root):
            for name in (*folders, *files):
                self.apply(Path(folder) / name)


OWNER_ONLY = Modes()
