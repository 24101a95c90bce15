"""Dagster wiring (Definitions, the nightly job and schedule, the resource) and the `aidmatch` command."""
