"""What this machine lends a run: how many things to do at once, and a RAM folder for CSV parts.

Read from the machine unless the configuration's `machine` section says otherwise: the cores are the
CPUs this process may run on (`os.sched_getaffinity`: a container pinned to two CPUs sees two, not the
host's sixty-four), and CSV parts go to `/dev/shm` when it has room for them. A server whose
`/dev/shm` is kept for others, or a container whose CPU quota is below the CPUs it sees, sets them.
"""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class MachineSettings:
    # Sources staged at once, and CSV parts read at once per file; null: the CPUs this process may use.
    cores: int | None = None
    # A RAM file system for the parts of a CSV being read, used when it has room; null: never (temp dir).
    memory_dir: str | None = "/dev/shm"

    def __post_init__(self) -> None:
        if self.cores is not None and self.cores < 1:
            raise ValueError("cores must be at least 1 (or null: the CPUs this process may use)")
        if self.memory_dir is not None and not os.path.isabs(self.memory_dir):
            raise ValueError(f"memory_dir must be an absolute path (or null), not {self.memory_dir!r}")

    @property
    def workers(self) -> int:
        """How many things to do at once: the configured cores, else the CPUs this process may run on."""
        return self.cores or len(os.sched_getaffinity(0))


THIS_MACHINE = MachineSettings()  # the machine as it is, nothing configured
