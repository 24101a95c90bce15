"""Score a run's published lists against the generator's expected lists (computed from the clean world).

    python benchmarks/evaluate_lists.py --published OUTPUT/<as-of> --truth WORLD/truth

Prints, per list, precision and recall of the entries (proactive: person + category; removals:
registration + roll; households: household id; entitlements: person + entitlement + employer; 民政's and
残联's lists: person; the early warning: household id) and of the entries with their reasons / status /
subsidy end / employer / risk, then per code of the lists that have one column of codes (the entries with
that code, published and expected). A world generated before a list existed has no expected file for it:
that list is named as not scored.
The expected lists come from `data_samples/expected.py`, a deliberately separate, plain
implementation of SPEC section 4 run on the generator's truth, not on the extracts.
"""

import argparse
from dataclasses import dataclass
from pathlib import Path

import polars as pl

# list -> (key columns, the detail column compared on top of the key)
LISTS: dict[str, tuple[tuple[str, ...], str]] = {
    "proactive": (("person_id", "category"), "reasons"),
    "removals": (("source_record", "roll"), "reasons"),
    "zero_employment_households": (("household_id",), "status"),
    "entitlements": (("person_id", "entitlement", "employer_id"), "subsidy_until"),
    "dibao_employment": (("person_id",), "employer_id"),
    "disability_employment": (("person_id",), "status"),
    "households_at_risk": (("household_id",), "risk"),
}
# list -> its column of codes, scored code by code
CODE_COLUMNS: dict[str, str] = {
    "zero_employment_households": "status",
    "entitlements": "entitlement",
    "dibao_employment": "finding",
    "disability_employment": "status",
    "households_at_risk": "risk",
}


@dataclass(frozen=True)
class Score:
    name: str
    expected: int
    published: int
    precision: float
    recall: float


def _score(name: str, published: pl.DataFrame, expected: pl.DataFrame, columns: list[str]) -> Score:
    got = set(published.select(columns).iter_rows())
    want = set(expected.select(columns).iter_rows())
    hits = len(got & want)
    return Score(
        name, len(want), len(got), hits / len(got) if got else 1.0, hits / len(want) if want else 1.0
    )


def evaluate(published: Path, truth: Path) -> tuple[list[Score], list[str]]:
    """The scores of every list the truth holds an expected file for, and the names of those it does not."""
    scores, unscored = [], []
    for name, (key, detail) in LISTS.items():
        if not (truth / f"expected_{name}.csv").is_file():
            unscored.append(name)
            continue
        ours = pl.read_csv(published / f"{name}.csv", infer_schema=False)
        theirs = pl.read_csv(truth / f"expected_{name}.csv", infer_schema=False)
        scores.append(_score(name, ours, theirs, list(key)))
        scores.append(_score(f"{name} +{detail}", ours, theirs, [*key, detail]))
        if name in CODE_COLUMNS:
            column = CODE_COLUMNS[name]
            for code in sorted(set(ours[column]) | set(theirs[column])):
                picked = [frame.filter(pl.col(column) == code) for frame in (ours, theirs)]
                scores.append(_score(f"{name} {code}", *picked, list(dict.fromkeys([*key, column]))))
    return scores, unscored


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, required=True, help="OUTPUT/<as-of> of a run")
    parser.add_argument("--truth", type=Path, required=True, help="the generated world's truth folder")
    args = parser.parse_args()
    print(f"{'list':42} {'expected':>9} {'published':>9} {'precision':>9} {'recall':>7}")
    scores, unscored = evaluate(args.published, args.truth)
    for s in scores:
        print(f"{s.name:42} {s.expected:9d} {s.published:9d} {s.precision:9.4f} {s.recall:7.4f}")
    for name in unscored:
        print(f"{name:42} not scored: {args.truth} has no expected_{name}.csv (generated before that list)")


if __name__ == "__main__":
    main()
