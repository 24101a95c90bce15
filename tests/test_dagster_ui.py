"""The Dagster UI as analysts and stewards read it: a real `dagster-webserver` on 127.0.0.1, started by
`aidmatch ui` over the run history of two nights `aidmatch run` ran, queried through its GraphQL API
with the queries the UI's pages make.

The code location named `aidmatch`; the nights on the job's Runs tab and under their partition; row
counts, column schemas, owners and tags, check descriptions with their thresholds, the stewards' rule ×
file table, one check entry per night (no stray "skipped" one).
"""

import json
import os
import sys
from collections import Counter

import pytest
import requests
from conftest import SOURCES, read_csv, read_manifest

from aidmatch.tables.catalog import TABLES
from tests.servers import ui_graphql

ASSETS = """
{ assetNodes {
    assetKey { path }
    owners { ... on TeamAssetOwner { team } }
    tags { key value }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name type } } } }
    assetChecksOrError { ... on AssetChecks { checks { name description blocking } } }
} }
"""
LATEST = """
query Latest($key: AssetKeyInput!, $partition: String!) {
  assetNodeOrError(assetKey: $key) { ... on AssetNode {
    assetMaterializations(partitions: [$partition], limit: 1) {
      metadataEntries { label ... on IntMetadataEntry { intValue } ... on FloatMetadataEntry { floatValue } }
    }
  } }
}
"""
# The job page's Runs tab (RunsFeedRootQuery): the job's runs created from its code location.
JOB_RUNS = """
query JobRuns($filter: RunsFilter) {
  runsFeedOrError(limit: 30, filter: $filter, view: RUNS) {
    ... on RunsFeedConnection { results { id ... on Run { pipelineSnapshotId tags { key value } } } }
  }
}
"""
# The job's Partitions tab: the runs of one partition, as its partition dialog lists them.
PARTITION_RUNS = """
query PartitionRuns($filter: RunsFilter) {
  runsOrError(filter: $filter, limit: 1000) { ... on Runs { results { id } } }
}
"""
LOCATIONS = """
{ workspaceOrError { ... on Workspace { locationEntries { name } } } }
"""
JOB = """
query Job($selector: PipelineSelector!) {
  pipelineOrError(params: $selector) { ... on Pipeline { pipelineSnapshotId } }
}
"""
CHECKS = """
query Checks($key: AssetKeyInput!, $check: String!) {
  assetCheckExecutions(assetKey: $key, checkName: $check, limit: 20) {
    status partition
    evaluation { severity description metadataEntries {
      label ... on TableMetadataEntry { table { records } }
    } }
  }
}
"""


@pytest.fixture(scope="module")
def graphql(two_nights, tmp_path_factory):
    log = tmp_path_factory.mktemp("webserver") / "webserver.log"
    env = {**os.environ, "DAGSTER_HOME": str(two_nights.home), "AIDMATCH_CONFIG": ""}
    with ui_graphql([sys.executable, "-m", "aidmatch.pipelines.cli", "ui"], env, log) as url:

        def query(text: str, **variables) -> dict:
            reply = requests.post(url, json={"query": text, "variables": variables}, timeout=60).json()
            assert "errors" not in reply, reply["errors"]
            return reply["data"]

        yield query


@pytest.fixture(scope="module")
def nodes(graphql) -> dict[str, dict]:
    return {"/".join(n["assetKey"]["path"]): n for n in graphql(ASSETS)["assetNodes"]}


def _latest(graphql, asset: str, partition: str) -> dict[str, float]:
    node = graphql(LATEST, key={"path": [asset]}, partition=partition)["assetNodeOrError"]
    (materialization,) = node["assetMaterializations"]
    return {
        e["label"]: e.get("intValue", e.get("floatValue"))
        for e in materialization["metadataEntries"]
        if "intValue" in e or "floatValue" in e
    }


def test_the_code_location_is_aidmatch(graphql):
    assert [e["name"] for e in graphql(LOCATIONS)["workspaceOrError"]["locationEntries"]] == ["aidmatch"]


def test_the_job_page_lists_the_nights_of_aidmatch_run_under_the_job_and_its_partition(graphql, two_nights):
    """What Jobs › aidmatch_nightly › Runs and its Partitions tab show: the runs created from the code
    location (the `.dagster/repository` tag their origin gives them) of the job, of the partition."""
    night_runs = {night: read_manifest(two_nights.output / night)["run_id"] for night in two_nights.dates}
    of_the_location = {"key": ".dagster/repository", "value": "__repository__@aidmatch"}
    runs = graphql(JOB_RUNS, filter={"pipelineName": "aidmatch_nightly", "tags": [of_the_location]})
    listed = runs["runsFeedOrError"]["results"]
    assert sorted(run["id"] for run in listed) == sorted(night_runs.values())
    job = graphql(JOB, selector={"pipelineName": "aidmatch_nightly", "repositoryName": "__repository__",
                                 "repositoryLocationName": "aidmatch"})  # fmt: skip
    assert {run["pipelineSnapshotId"] for run in listed} == {job["pipelineOrError"]["pipelineSnapshotId"]}, (
        "the job the night ran is the job the code location shows"
    )
    for night, run_id in night_runs.items():
        tags = [of_the_location, {"key": "dagster/partition", "value": night}]
        partition = graphql(PARTITION_RUNS, filter={"pipelineName": "aidmatch_nightly", "tags": tags})
        assert [run["id"] for run in partition["runsOrError"]["results"]] == [run_id], night


def test_every_table_asset_has_its_row_count(graphql, nodes, two_nights):
    night = two_nights.dates[1]
    manifest = read_manifest(two_nights.last)
    expected = {
        "core_person_links": manifest["outputs"]["person_links.csv"]["rows"],
        "core_review_queue": manifest["outputs"]["review_queue.csv"]["rows"],
        "out_proactive": manifest["outputs"]["proactive.csv"]["rows"],
        "out_removals": manifest["outputs"]["removals.csv"]["rows"],
        "out_zero_employment_households": manifest["outputs"]["zero_employment_households.csv"]["rows"],
        "core_persons": len(
            {r["person_id"] for r in read_csv(two_nights.last / "person_links.csv")[1] if r["person_id"]}
        ),
        **{f"raw_{s}": manifest["inputs"][s]["rows_read"] for s in SOURCES},
        **{f"staged_{s}": manifest["inputs"][s]["rows_staged"] for s in SOURCES},
    }
    for asset, rows in expected.items():
        assert _latest(graphql, asset, night)["dagster/row_count"] == rows, asset
    facts = _latest(graphql, "facts_persons", night)
    assert facts["dagster/row_count"] == expected["core_persons"]
    link_rates = _latest(graphql, "core_person_links", night)
    assert 0.9 < link_rates["link_rate"] <= 1, "rates are numbers the UI plots night over night"
    assert "blocking_rate" in _latest(graphql, "staged_dibao", night)
    assert set(nodes) >= set(expected) | {"facts_persons", "published_outputs"}


def test_column_schemas_owners_and_tags(nodes):
    for key, node in nodes.items():
        tags = {t["key"]: t["value"] for t in node["tags"]}
        assert tags.get("layer") and tags.get("personal_data") in ("yes", "no"), key
        assert [o["team"] for o in node["owners"]], key
        if key in TABLES:
            (schema,) = [
                e["schema"] for e in node["metadataEntries"] if e["label"] == "dagster/column_schema"
            ]
            assert [c["name"] for c in schema["columns"]] == [c.name for c in TABLES[key].columns], key
        elif key.startswith("raw_"):
            (schema,) = [
                e["schema"] for e in node["metadataEntries"] if e["label"] == "dagster/column_schema"
            ]
            assert [c["name"] for c in schema["columns"]][:5] == [
                "source",
                "source_file",
                "source_sheet",
                "source_row",
                "source_record",
            ]


def test_every_check_states_its_threshold_and_severity(nodes):
    checks = [(key, c) for key, node in nodes.items() for c in node["assetChecksOrError"].get("checks", [])]
    assert len(checks) == 5 * len(SOURCES) + 1  # five per source, and the decisions' valid_rows
    for key, check in checks:
        text = check["description"] or ""
        assert ("ERROR" in text or "WARN" in text) and ("blocking" in text.lower()), (
            key,
            check["name"],
            text,
        )
    row_rules = next(c for k, c in checks if c["name"] == "row_rules")
    assert "30%" in row_rules["description"], "the configured max_quarantine_rate, stated"


def test_the_stewards_table_and_one_entry_per_night(graphql, two_nights):
    quarantine = read_csv(two_nights.last / "quarantine.csv")[1]
    for source in SOURCES:
        executions = graphql(CHECKS, key={"path": [f"staged_{source}"]}, check="row_rules")[
            "assetCheckExecutions"
        ]
        assert sorted(e["partition"] for e in executions) == sorted(two_nights.dates), "one entry per night"
        assert "SKIPPED" not in {e["status"] for e in executions}
        latest = next(e for e in executions if e["partition"] == two_nights.dates[1])
        (table,) = [
            m["table"]
            for m in latest["evaluation"]["metadataEntries"]
            if m["label"] == "stewards' table: rule × file"
        ]
        rows = [json.loads(r) for r in table["records"]]
        expected = Counter((q["rule"], q["source_file"]) for q in quarantine if q["source"] == source)
        assert {(r["rule"], r["file"]): r["rows"] for r in rows} == dict(expected), source
        for row in rows:
            assert row["规则"] and any("\u4e00" <= ch <= "\u9fff" for ch in row["规则"]), row
            first = [row["file"] + place for place in row["first rows"].split(", ")]
            records = sorted(
                (
                    q["source_record"]
                    for q in quarantine
                    if (q["rule"], q["source_file"]) == (row["rule"], row["file"])
                ),
                key=lambda record: (int(record.rsplit(":", 1)[1]), record),
            )
            assert first == records[: len(first)] and len(first) == min(3, len(records)), row
