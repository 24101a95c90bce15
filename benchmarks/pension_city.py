"""A generated city thinned to the shape of the bureaus' extracts: its contributions kept for pensions only.

    python benchmarks/pension_city.py CITY_INPUT OUT_INPUT
    (or `bench_pipeline.py --pensions-only`, which runs the city it benchmarks so)

The generator writes five kinds of insurance a month for every insured person — about 11 records per
person, ten of them contributions (a 1M-person city: 10.9M records). The hidden city issue 26 measures
holds 3.3 records per person (1M persons, 3.28M records): there the persons' sources, not the
contributions, are most of the night, and the floor (a scan of the bytes) is three times smaller — a
ratio to the floor measured on the generator's city flatters every stage that costs per person. This
keeps the rows of the two pension kinds (企业职工基本养老保险, 城乡居民基本养老保险) and drops those of
职工基本医疗保险, 工伤保险 and 失业保险 (who works, and where, is in every kind alike): a 1M-person city
becomes 3.9M records. The other sources are hard links to the city's files.

Lines are dropped as bytes in the file's own encoding (UTF-8 or GB18030, `sources/encoding.py`): header,
grouping and footer rows stay, the generator writes no line break inside a cell. A contributions workbook
is linked whole, and said so.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from aidmatch.sources.encoding import HEAD_BYTES, detect_encoding

CONTRIBUTIONS = "si_contributions"
DROPPED = ("职工基本医疗保险", "工伤保险", "失业保险")


def line_codec(data: bytes) -> str | None:
    """The codec a line of this CSV's bytes is decoded and encoded with (`detect_encoding`; a BOM is the
    first line's alone), None when the bytes are neither UTF-8 nor GB18030."""
    encoding = detect_encoding(data[:HEAD_BYTES])
    return "utf-8" if encoding == "utf-8-sig" else encoding


def thin(source: Path, target: Path) -> tuple[int, int]:
    """`source` without its lines that name a dropped kind of insurance, written to `target`; returns the
    lines read and kept."""
    data = source.read_bytes()
    codec = line_codec(data)
    if codec is None:
        raise SystemExit(f"pension_city: {source} is neither UTF-8 nor GB18030")
    dropped = [kind.encode(codec) for kind in DROPPED]
    lines = data.split(b"\n")
    kept = [line for line in lines if not any(kind in line for kind in dropped)]
    target.write_bytes(b"\n".join(kept))
    return len(lines), len(kept)


def pensions_only(city_input: Path, out: Path) -> None:
    """`city_input` laid out at `out` (which must not exist): its contributions' CSV/TXT files thinned
    (`thin`), every other file hard-linked; a line per contributions file on what was kept."""
    contributions = city_input / CONTRIBUTIONS

    def lay_out(source: str, target: str) -> None:
        path = Path(source)
        if not path.is_relative_to(contributions):
            os.link(source, target)
        elif path.suffix.lower() in (".csv", ".txt"):
            read, kept = thin(path, Path(target))
            print(f"{path.name}: {kept:,} of {read:,} lines kept")
        else:
            os.link(source, target)
            print(f"{path.name}: a workbook, linked whole")

    shutil.copytree(city_input, out, copy_function=lay_out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("city_input", type=Path, help="a generated city's input folder")
    parser.add_argument("out", type=Path, help="the thinned input folder (must not exist)")
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"pension_city: {args.out} exists")
    pensions_only(args.city_input, args.out)


if __name__ == "__main__":
    main()
