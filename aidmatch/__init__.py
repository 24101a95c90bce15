"""aidmatch — employment-assistance (就业援助) data matching, one import name for the whole product.

The repository keeps one top-level folder per part, each installed as a subpackage of `aidmatch`
(`pyproject.toml`, `[tool.setuptools.package-dir]`):

- `aidmatch.sources` (`sources/`): reading and staging the departments' extracts;
- `aidmatch.matching` (`matching/`): linking every record to a person;
- `aidmatch.rules` (`rules/`): the policy rules (SPEC section 4), in SQL;
- `aidmatch.publish` (`publish/`): writing the lists, the manifest, safely;
- `aidmatch.province` (`province/`): a province run city by city, the cities exchanging a person index;
- `aidmatch.checks` (`checks/`): source-quality checks and the quarantine;
- `aidmatch.assets` (`assets/`): the Dagster assets, one module per stage — wiring only;
- `aidmatch.pipelines` (`pipelines/`): the code location, the job, schedule and sensors, the commands;
- `aidmatch.deploy` (`deploy/`): the files a deployment runs with (`aidmatch init` writes them);
- `aidmatch.data_samples` (`data_samples/`): the sample generator and the bundled sample.

This folder holds what all of them share and nothing that imports `assets` or `pipelines`: the
configuration (`settings`, and the default file `aidmatch.yaml`), the resource every asset runs with
and the guard every run holds (`resources`, `run_guard`, `run_lock`, `run_record`), the terminal
(`console`), the UI's metadata tables (`metadata`) and the code version (`version`).
"""
