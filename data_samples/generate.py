"""Command line: generate a synthetic city's five extracts and their ground truth.

    python -m aidmatch.data_samples.generate --persons N --seed S --as-of YYYY-MM-DD --out DIR [--no-export-variants]

writes `DIR/input/<source>/[<month>/]<district>.{xlsx,xls,csv,txt}` (the extracts, with the defects of
SPEC section 2) and `DIR/truth/` (persons.csv, records.csv, and the expected lists of `expected.py`).
What belongs here: the order of the steps and the truth files; the steps themselves live in `world`,
`defects`, `writers`.
"""

import argparse
import shutil
import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from aidmatch.data_samples import expected
from aidmatch.data_samples.defects import damage, with_rare_characters
from aidmatch.data_samples.world import World, build_world
from aidmatch.data_samples.writers import write_source

PERSON_COLUMNS = (
    "person_id", "name", "sex", "birth_date", "household_id", "ethnicity", "hukou_type", "district",
    "address", "retirement_scheme", "retirement_date", "retired_on", "died_on", "contribution_type",
    "months_from", "months_to", "arrears", "employed", "flexibly_employed", "near_miss",
)  # fmt: skip
RECORD_COLUMNS = (
    "source",
    "source_record",
    "true_person_id",
    "id_defect",
    "name_defect",
    "row_defect",
    "id_recoverable",
)


def generate(
    persons: int,
    seed: int,
    as_of: date,
    out: Path,
    defect_scale: float = 1.0,
    housemate_rate: float = 0.0,
    export_variants: bool = True,
) -> dict[str, int]:
    """Build the world, write its extracts and truth under `out`; return the data rows written per source.
    `defect_scale` multiplies every defect rate; `housemate_rate` types a housemate's ID on that share of
    the 低保 rows (see `defects.damage`); `export_variants` writes the files as other systems export them
    (`writers.OTHER_SYSTEMS`, and 生僻字 in some names) — without them, the same world from the same seed."""
    world = build_world(persons, seed, as_of)
    return write_world(
        world, seed, out, defect_scale=defect_scale, housemate_rate=housemate_rate,
        export_variants=export_variants,
    )  # fmt: skip


def write_world(
    world: World,
    seed: int,
    out: Path,
    truth: bool = True,
    defect_scale: float = 1.0,
    housemate_rate: float = 0.0,
    export_variants: bool = True,
) -> dict[str, int]:
    """Write a built world's extracts under `out/input` and, unless `truth` is false, its truth under
    `out/truth`; return the data rows written per source."""
    for sub in ("input", "truth"):
        shutil.rmtree(out / sub, ignore_errors=True)
    (out / "input").mkdir(parents=True)
    rng = np.random.default_rng([seed, 1])
    variants = np.random.default_rng([seed, 2]) if export_variants else None
    if export_variants:
        world = with_rare_characters(world, seed)
    counts, records, written = {}, [], {}
    for source, clean in world.records.items():
        rows = write_source(
            damage(clean, source, rng, world.persons["person_id"], defect_scale, housemate_rate),
            source,
            out / "input",
            rng,
            world.as_of,
            variants,
        )
        counts[source] = rows.height
        if truth:
            records.append(
                rows.select(
                    pl.lit(source).alias("source"),
                    "source_record",
                    pl.col("person_id").alias("true_person_id"),
                    *RECORD_COLUMNS[3:],
                )
            )
        if source == "unemployment":
            written[source] = rows
    if truth:
        (out / "truth").mkdir()
        no_empty_text = pl.col(pl.String).replace("", None)  # an empty cell, not a quoted ""
        persons = world.persons.select(PERSON_COLUMNS).with_columns(no_empty_text)
        persons.write_csv(out / "truth" / "persons.csv")
        pl.concat(records).with_columns(no_empty_text).write_csv(out / "truth" / "records.csv")
        expected.write_expected(world, written["unemployment"], out / "truth")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--persons", type=int, required=True, help="people in the city (si_persons rows ≈ this)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--as-of", type=date.fromisoformat, required=True, help="the extracts' date, YYYY-MM-DD"
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--defect-scale",
        type=float,
        default=1.0,
        help="multiply every defect rate (2: a world with twice the usual defects)",
    )
    parser.add_argument(
        "--housemate-id-rate",
        type=float,
        default=0.0,
        help="share of 低保 rows typed with a housemate's ID (default 0)",
    )
    parser.add_argument(
        "--export-variants",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the files as other systems export them: header aliases, 序号, columns in another order, "
        "备注, a grouping row, the footer's counts, 生僻字 placeholders (--no-export-variants: the same world "
        "without them, for comparison)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(
        args.persons, args.seed, args.as_of, args.out, args.defect_scale, args.housemate_id_rate,
        args.export_variants,
    )  # fmt: skip
    for source, count in counts.items():
        print(f"{source:>18}: {count:>10,} rows")
    print(f"{'elapsed':>18}: {time.perf_counter() - started:10.1f} s")


if __name__ == "__main__":
    main()
