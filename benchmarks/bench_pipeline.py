"""City-scale benchmark of the whole nightly run: wall time per stage and peak memory.

    python benchmarks/bench_pipeline.py [--persons 1000000] [--world benchmarks/.data/city]

Generates the world once (1,000,000 persons ≈ 1M si_persons, ~10M contribution rows, 60k
registrations, 80k 低保 members, 60k cards), then runs `aidmatch run` on it in this process — a real
Dagster run recorded under DAGSTER_HOME — and prints the seconds of each stage (from Dagster's step
stats), the peak RSS of the process, and a bare DuckDB `read_csv` of the same CSV files for scale.
"""

import argparse
import datetime as dt
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from aidmatch.data_samples.generate import generate
from aidmatch.pipelines.cli import main as aidmatch_main
from aidmatch.sources.encoding import HEAD_BYTES, detect_encoding

STAGES = {
    "ingest": ("ingest",),
    "link": ("link_persons",),
    "facts": ("facts_persons",),
    "lists": ("build_lists",),
    "export": ("published_outputs",),
}


def bare_scan_seconds(world: Path) -> tuple[float, float]:
    """DuckDB loading every UTF-8 CSV of the world into an in-memory table, nothing else done, and the
    share of the CSV bytes those files are (DuckDB alone cannot decode the GB18030 ones; see
    bench_readers.py for them)."""
    con = duckdb.connect()
    started, read_bytes, all_bytes = time.perf_counter(), 0, 0
    for number, path in enumerate(sorted(world.glob("*/*.csv"))):
        all_bytes += path.stat().st_size
        if detect_encoding(path.read_bytes()[:HEAD_BYTES]) == "gb18030":
            continue
        read_bytes += path.stat().st_size
        con.execute(
            f"CREATE TABLE t{number} AS SELECT * FROM read_csv('{path}', all_varchar = true, "
            "null_padding = true, strict_mode = false)"
        )
    return time.perf_counter() - started, read_bytes / all_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--world", type=Path, default=Path("benchmarks/.data/city"))
    parser.add_argument("--as-of", default="2026-11-22")
    args = parser.parse_args()
    if not (args.world / "input").is_dir():
        started = time.perf_counter()
        generate(persons=args.persons, seed=1, as_of=dt.date.fromisoformat(args.as_of), out=args.world)
        print(f"generated {args.persons:,} persons in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()
        code = aidmatch_main(
            [
                "run",
                "--input",
                str(args.world / "input"),
                "--output",
                f"{scratch}/out",
                "--as-of",
                args.as_of,
                "--work-dir",
                f"{scratch}/work",
            ]
        )
        wall = time.perf_counter() - started
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    from dagster import DagsterInstance

    with DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        steps = instance.get_run_step_stats(run.run_id)
    print(
        f"\nexit code {code}; wall {wall:.1f} s; peak RSS {peak_gib:.2f} GiB (DAGSTER_HOME={os.environ['DAGSTER_HOME']})"
    )
    for stage, prefixes in STAGES.items():
        seconds = sum(
            (s.end_time or 0) - (s.start_time or 0) for s in steps if s.step_key.startswith(prefixes)
        )
        print(f"  {stage:8} {seconds:6.1f} s")
    seconds, share = bare_scan_seconds(args.world / "input")
    print(
        f"  bare DuckDB read_csv into a table of the UTF-8 CSV files ({share:.0%} of CSV bytes): {seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
