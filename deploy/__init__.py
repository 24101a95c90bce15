"""What a deployment runs with: Dagster's instance file, the workspace and the systemd units.

Templates, not code: `aidmatch init DIR` (`pipelines/deployment.py`) writes them into a new deployment's
folder with its paths filled in. `docs/operations.md` says how they are used.
"""
