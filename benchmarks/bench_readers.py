"""Benchmark: `read_source` against a bare DuckDB `read_csv` of the same contributions CSV.

Generates plain synthetic 社会保险缴费明细 rows (not the sample generator's realistic defects) into
`benchmarks/.data/` once: a 10,000,000-row UTF-8 file (~1.2 GB) and a 1,000,000-row GB18030 one.
Each measurement runs on a fresh in-memory connection, bare and ours alternating; the best of
`--repeat` runs is reported, since other work on the machine only ever adds time.
The bare baseline reads the GB18030 file as latin-1 (DuckDB's only built-in single-byte decoding):
the same bytes, scanned without transcoding.

    .venv/bin/python benchmarks/bench_readers.py [--rows 10000000] [--gb-rows 1000000] [--repeat 3]
"""

import argparse
import shutil
import time
from pathlib import Path

import duckdb

from aidmatch.settings import IntakeSettings
from aidmatch.sources.readers import load_column_maps, read_source

DATA = Path(__file__).with_name(".data")
HEADER = "社会保障号码,姓名,单位编号,单位名称,缴费类型,险种,费款所属期,缴费基数,缴费状态"


def generate_utf8(path: Path, rows: int) -> None:
    """Write `rows` synthetic contribution rows with DuckDB (fast), UTF-8, header on line 1."""
    duckdb.connect().execute(
        f"""
        COPY (
          SELECT
            printf('%06d%04d%02d%02d%03d%s', 110101 + i % 500, 1960 + i % 40, 1 + i % 12, 1 + i % 28,
                   i % 1000, ['0','1','2','3','4','5','6','7','8','9','X'][1 + i % 11]),
            ['张','王','李','赵','刘','陈','杨','黄'][1 + i % 8] || ['伟','芳','娜','敏','静','丽','强'][1 + i % 7],
            printf('%08d', i % 50000),
            ['北京某某科技有限公司','朝阳区某服务中心','海淀某商贸公司'][1 + i % 3],
            ['单位职工','灵活就业','城乡居民'][1 + i % 3],
            ['企业职工基本养老保险','失业保险','工伤保险','职工基本医疗保险'][1 + i % 4],
            printf('%04d%02d', 2023 + i % 2, 1 + i % 12),
            printf('%d', 3000 + i % 20000),
            ['已实缴','欠费'][1 + i % 2]
          FROM range({rows}) AS t(i)
        ) TO '{path}' (HEADER false, DELIMITER ',')
        """
    )
    body = path.with_suffix(".body")
    path.rename(body)
    with open(path, "wb") as target, open(body, "rb") as source:
        target.write((HEADER + "\n").encode())
        shutil.copyfileobj(source, target, 1 << 24)
    body.unlink()


def generate_gb18030(path: Path, utf8: Path) -> None:
    with open(utf8, encoding="utf-8") as source, open(path, "w", encoding="gb18030") as target:
        shutil.copyfileobj(source, target, 1 << 24)


def bare(path: Path, encoding: str) -> float:
    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(
        f"CREATE TABLE t AS SELECT * FROM read_csv('{path}', all_varchar = true, encoding = '{encoding}')"
    )
    return time.perf_counter() - start


def ours(input_root: Path) -> tuple[float, int]:
    con = duckdb.connect()
    column_map = load_column_maps()["si_contributions"]
    start = time.perf_counter()
    reports = read_source(
        con, input_root, "si_contributions", column_map, "raw_si_contributions", limits=IntakeSettings()
    )
    return time.perf_counter() - start, sum(r.rows_read for r in reports)


def compare(label: str, input_root: Path, path: Path, bare_encoding: str, repeat: int) -> None:
    bare_times, our_times, rows = [], [], 0
    for _ in range(repeat):
        bare_times.append(bare(path, bare_encoding))
        elapsed, rows = ours(input_root)
        our_times.append(elapsed)
    size = path.stat().st_size / 1e6
    b, o = min(bare_times), min(our_times)
    print(
        f"{label}: {rows:,} rows, {size:,.0f} MB: bare read_csv {b:.2f} s, read_source {o:.2f} s, ratio {o / b:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--gb-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    utf8_root, gb_root = DATA / f"utf8_{args.rows}", DATA / f"gb18030_{args.gb_rows}"
    utf8 = utf8_root / "si_contributions" / "contributions.csv"
    gb = gb_root / "si_contributions" / "contributions.csv"
    if not utf8.exists():
        utf8.parent.mkdir(parents=True, exist_ok=True)
        generate_utf8(utf8, args.rows)
    if not gb.exists():
        gb.parent.mkdir(parents=True, exist_ok=True)
        gb_as_utf8 = DATA / f"utf8_{args.gb_rows}.csv"
        generate_utf8(gb_as_utf8, args.gb_rows)
        generate_gb18030(gb, gb_as_utf8)
        gb_as_utf8.unlink()
    compare("UTF-8", utf8_root, utf8, "utf-8", args.repeat)
    compare("GB18030", gb_root, gb, "latin-1", args.repeat)


if __name__ == "__main__":
    main()
