"""The code location as `dagster-webserver` and `dagster-daemon` load it (workspace.yaml names this module):
`defs`, built from the configuration in force — AIDMATCH_CONFIG's file in their environment (the
systemd units and `aidmatch ui` set it), else the shipped default. `pipelines/code_location.py` builds it.
"""

from aidmatch.pipelines.code_location import build_defs
from aidmatch.settings import settings_in_force

defs = build_defs(settings_in_force())
