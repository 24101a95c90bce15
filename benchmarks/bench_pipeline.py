"""Scale benchmark: `aidmatch run` on a city and on a province of ten cities, stage by stage, against the floor.

    python benchmarks/bench_pipeline.py [--root /work/bench/scale] [--city-input DIR --city-truth DIR]
        [--persons 1000000] [--cities 10] [--worlds city province] [--no-nights] [--contended] [--splink]
        [--pensions-only] [--config FILE]

Worlds are generated once under ROOT (by a child process, whose memory is nobody's figure): the city
(`--persons` people, seed 11; or an existing one, `--city-input`) and the province (`--cities` cities of
`--persons` people, `data_samples/province.py`, laid out as one input folder, `<source>/<city>/...`).
With `--pensions-only` the city runs thinned to its pension contributions (`pension_city.py`): the shape of
the bureaus' extracts, 3–4 records a person where the generator writes 11, at which the per-person stages
weigh against the floor as they do on a bureau's server.
Each world is run by `aidmatch run` in a child process (its own DAGSTER_HOME, output and work folders
under ROOT/runs/, removed afterwards), watched from here: at each step's start and end line the
child's CPU time is read (its own and that of the processes it has reaped: the GB18030 decoders, the workbook
writers) and its peak memory — the higher of its own VmHWM (reset at each step's start) and its resident
set plus the private memory of every process under it, sampled once a second — so each stage has
its wall time, CPU time, peak memory and records per second (rows read by the run / stage seconds). Then:

- the floor: a bare DuckDB scan of the same CSV/TXT files into a table (`read_csv`, all text), the
  GB18030 ones transcoded in a stream (Python's codec, one thread) into a pipe DuckDB reads — timed on
  its own too — in a child process; our wall time as a multiple of it (workbooks are not in the floor:
  DuckDB reads them only through an extension it would download; the share of bytes is printed);
- the city's later nights (unless `--no-nights`), in the full night's folder and DAGSTER_HOME so that each
  starts from the night before (`aidmatch/reuse.py`): an unchanged night (the same files, the as-of a day
  on) and a one-source night (two days on, `unemployment` re-sent with one person's phone number changed:
  that folder replaced by an edited copy), each measured like the full night, then a table of the three
  nights against the floor and what each built again. The three nights read their own input folder, the
  city's files as hard links laid out before the first (`nights_input`), so that a re-send touches no
  other source's files;
- `--contended`: the city again with two busy processes competing for the two cores;
- `--splink`: the linking stage beside Splink on the city's staged records (`evaluate_linking.py`);
- the growth from city to province (time, CPU and memory ratios), and what a node needs per million
  insured persons (si_persons rows read): seconds, peak GiB, and disk (work database, largest spill,
  published files).

Run it alone (`flock /work/bench.lock python benchmarks/bench_pipeline.py ...` on a shared machine).
"""

import argparse
import codecs
import contextlib
import importlib.util
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import duckdb

from aidmatch.sources.tables import SOURCES

AS_OF = "2026-11-22"
STAGES = {  # the stage a step belongs to
    "ingest": "ingest",
    "link_persons": "link",
    "facts_persons": "facts",
    "build_lists": "lists",
    "published_outputs": "export",
} | {f"files_{source}": "files" for source in SOURCES}  # observing the source folders: hashing the files
GIB = 2**30
PYTHON_GIB = 1.5  # what a run holds beside DuckDB's memory_limit: interpreter, Dagster, a lookup batch, xlsx
FAILURE_LINES = 30  # of a failed run's terminal, printed with its figures
_STEP = re.compile(r"^\S+ +(▶|✓|✗) (\S+)")
_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")
_BENCH = Path(__file__).resolve()


@dataclass
class Stage:
    name: str
    wall: float = 0.0
    cpu: float = 0.0
    peak: int = 0  # bytes


@dataclass
class RunFigures:
    label: str
    exit_code: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    peak: int = 0
    rows: int = 0  # rows read, every source
    insured: int = 0  # si_persons rows read
    stages: dict[str, Stage] = field(default_factory=dict)
    work_bytes: int = 0
    spill_bytes: int = 0  # the largest the spill folder was
    output_bytes: int = 0
    reused: tuple[str, ...] = ()  # the units taken from an earlier night (the manifest's `reused`)
    failure: str = ""  # the terminal's last lines when the run failed: its folders may be removed after


def _cpu_seconds(pid: int) -> float:
    """The process's CPU time and its reaped children's (a stage's worker processes are reaped in it)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / _TICKS  # utime, stime, cutime, cstime


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # the kernel resets VmHWM to the current RSS


def _size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def _tree(pid: int) -> list[int]:
    """`pid` and every process under it."""
    found, waiting = [], [pid]
    while waiting:
        found.append(waiting.pop())
        for children in Path(f"/proc/{found[-1]}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # a process may end while it is read
                waiting += [int(child) for child in children.read_text().split()]
    return found


def _private(pid: int) -> int:
    """Memory only this process holds (`smaps_rollup` Private_Clean + Private_Dirty): a forked GB18030
    decoder's resident set counts every page it still shares with the run, four gigabytes at the province."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    return sum(
        int(kb) * 1024 for kb in re.findall(r"^Private_(?:Clean|Dirty):\s+(\d+) kB", rollup, re.MULTILINE)
    )


def _tree_memory(pid: int) -> int:
    """The run process's resident set and the private memory of every process under it (the workbook
    writers, the decoders). `smaps_rollup` walks a process's page tables: it is read once a second, and
    the run process's own peak is its VmHWM."""
    run, *under = _tree(pid)
    total = 0
    with contextlib.suppress(OSError):  # a process may end while it is read
        total += int(Path(f"/proc/{run}/statm").read_text().split()[1]) * _PAGE
    for member in under:
        with contextlib.suppress(OSError):
            total += _private(member)
    return total


@dataclass
class _Watch:
    """What the watcher thread samples while a run goes: the tree's peak memory since the last `take`."""

    pid: int
    tree_peak: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sample(self) -> None:
        memory = _tree_memory(self.pid)
        with self.lock:
            self.tree_peak = max(self.tree_peak, memory)

    def take(self) -> int:
        with self.lock:
            peak, self.tree_peak = self.tree_peak, 0
        return peak


def _watch(work: Path, figures: RunFigures, watch: _Watch, done: threading.Event) -> None:
    while not done.wait(1.0):
        watch.sample()
        for spill in work.glob("*/*.tmp"):
            with contextlib.suppress(FileNotFoundError):  # DuckDB removes spill files as it goes
                figures.spill_bytes = max(figures.spill_bytes, _size(spill))


def run_world(label: str, input_root: Path, root: Path, config: Path | None) -> RunFigures:
    """`aidmatch run` on `input_root` in a fresh folder, ROOT/runs/<label>, watched stage by stage."""
    folder = root / "runs" / label
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "dagster_home").mkdir(parents=True)
    return run_night(label, input_root, folder, AS_OF, config)


def run_night(
    label: str, input_root: Path, folder: Path, as_of: str, config: Path | None, *options: str
) -> RunFigures:
    """`aidmatch run --as-of <as_of>` on `input_root` in a child process, with `folder`'s DAGSTER_HOME, output
    and work folders (a later night in the same folder reuses what an earlier one built), watched stage by
    stage."""
    command = [str(Path(sys.executable).with_name("aidmatch")), "run", "--input", str(input_root)]
    command += ["--output", str(folder / "out"), "--work-dir", str(folder / "work"), "--as-of", as_of]
    command += ["--config", str(config)] if config else []
    command += options
    env = os.environ | {"DAGSTER_HOME": str(folder / "dagster_home"), "PYTHONUNBUFFERED": "1"}
    figures = RunFigures(label)
    started = time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    done = threading.Event()
    watch = _Watch(child.pid)
    watcher = threading.Thread(target=_watch, args=(folder / "work", figures, watch, done), daemon=True)
    watcher.start()
    opened: dict[str, tuple[float, float]] = {}
    outside = 0  # peak memory before the first step and between steps
    with open(folder / f"terminal-{as_of}.txt", "w") as log:
        for line in child.stdout:
            log.write(line)
            match = _STEP.match(line)
            if not match:
                continue
            mark, step = match.groups()
            now, cpu = time.perf_counter(), _cpu_seconds(child.pid)
            peak = max(_peak_rss(child.pid), watch.take())
            if mark == "▶":
                outside = max(outside, peak)
                _reset_peak(child.pid)
                opened[step] = (now, cpu)
            elif step in opened:
                name = STAGES.get(step, step)
                stage = figures.stages.setdefault(name, Stage(name))
                began, cpu_began = opened.pop(step)
                stage.wall += now - began
                stage.cpu += cpu - cpu_began
                stage.peak = max(stage.peak, peak)
                _reset_peak(child.pid)
    _, status, usage = os.wait4(child.pid, 0)
    done.set()
    figures.exit_code = os.waitstatus_to_exitcode(status)
    figures.wall = time.perf_counter() - started
    figures.cpu = usage.ru_utime + usage.ru_stime
    figures.peak = max([outside, *(s.peak for s in figures.stages.values())])
    if figures.exit_code:
        lines = (folder / f"terminal-{as_of}.txt").read_text(encoding="utf-8").splitlines()
        figures.failure = "\n".join(lines[-FAILURE_LINES:])
    manifest = folder / "out" / as_of / "manifest.json"
    if manifest.is_file():
        written = json.loads(manifest.read_text())
        inputs = written["inputs"]
        figures.reused = tuple(sorted(written.get("reused", {})))
        figures.rows = sum(section["rows_read"] for section in inputs.values())
        figures.insured = inputs["si_persons"]["rows_read"]
    figures.work_bytes = _size(folder / "work" / as_of)  # the night's own: earlier nights' are kept beside it
    figures.output_bytes = _size(folder / "out" / as_of)
    return figures


# --- the floor -------------------------------------------------------------------------------------------


def _transcode(path: Path, pipe: str) -> None:
    """Stream a GB18030 file into `pipe` as UTF-8, chunk by chunk (what any reader of such a file pays)."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    with open(path, "rb") as source, open(pipe, "wb") as target:
        while chunk := source.read(1 << 24):
            target.write(decoder.decode(chunk).encode("utf-8"))
        target.write(decoder.decode(b"", final=True).encode("utf-8"))


def floor(input_root: Path) -> dict[str, float]:
    """A bare DuckDB scan of every CSV/TXT file of the world into a table; GB18030 ones through a pipe."""
    from aidmatch.sources.encoding import HEAD_BYTES, detect_encoding

    con = duckdb.connect()
    files = sorted(p for p in input_root.rglob("*") if p.suffix.lower() in (".csv", ".txt"))
    workbooks = sum(p.stat().st_size for p in input_root.rglob("*") if p.suffix.lower() in (".xlsx", ".xls"))
    figures = {"utf8_seconds": 0.0, "gb18030_seconds": 0.0, "utf8_bytes": 0, "gb18030_bytes": 0}
    scratch = Path(tempfile.mkdtemp())
    try:
        for number, path in enumerate(files):
            with open(path, "rb") as handle:
                encoding = detect_encoding(handle.read(HEAD_BYTES))
            delimiter = "\\t" if path.suffix.lower() == ".txt" else ","
            scan = (
                f"CREATE TABLE t{number} AS SELECT * FROM read_csv('{{}}', all_varchar = true, header = false, "
                f"delim = '{delimiter}', null_padding = true, strict_mode = false, ignore_errors = true)"
            )
            started = time.perf_counter()
            if encoding == "gb18030":
                pipe = str(scratch / f"pipe{number}")
                os.mkfifo(pipe)
                writer = threading.Thread(target=_transcode, args=(path, pipe))
                writer.start()
                con.execute(scan.format(pipe))
                writer.join()
                figures["gb18030_seconds"] += time.perf_counter() - started
                figures["gb18030_bytes"] += path.stat().st_size
            else:
                con.execute(scan.format(path))
                figures["utf8_seconds"] += time.perf_counter() - started
                figures["utf8_bytes"] += path.stat().st_size
            con.execute(f"DROP TABLE t{number}")  # the floor is the scan, not holding a province in memory
    finally:
        shutil.rmtree(scratch)
    figures["workbook_bytes"] = workbooks
    return figures


def measure_floor(input_root: Path) -> dict[str, float]:
    """`floor` in a child process (its own memory and threads); the floor is its scans' seconds."""
    out = subprocess.run(
        [sys.executable, str(_BENCH), "--floor-of", str(input_root)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    figures["seconds"] = figures["utf8_seconds"] + figures["gb18030_seconds"]
    return figures


# --- worlds, contention, Splink ----------------------------------------------------------------------------


def _python_module(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", *arguments], check=True)


def city_world(args: argparse.Namespace) -> tuple[Path, Path | None]:
    """The city's input and truth folders: `--city-input`, else generated once under ROOT/city; with
    `--pensions-only` that city thinned to its pension contributions under ROOT/city_pensions, once for each
    city it comes from."""
    if args.city_input:
        city, truth = args.city_input, args.city_truth
    else:
        world = args.root / "city"
        if not (world / "input").is_dir():
            _python_module("aidmatch.data_samples.generate", "--persons", str(args.persons), "--seed", "11",
                           "--as-of", AS_OF, "--out", str(world))  # fmt: skip
        city, truth = world / "input", world / "truth"
    if not args.pensions_only:
        return city, truth
    folder, source = args.root / "city_pensions", str(city.resolve())
    thinned, origin = folder / "input", folder / "thinned_from.txt"  # written last: the folder is whole
    if not origin.is_file() or origin.read_text(encoding="utf-8") != source:  # absent, or another city's
        shutil.rmtree(folder, ignore_errors=True)
        _beside("pension_city").pensions_only(city, folder / "input.partial")
        (folder / "input.partial").rename(thinned)
        decisions = city.parent / "decisions"  # `aidmatch run`'s default, beside the input: the city's too
        if decisions.is_dir():
            shutil.copytree(decisions, folder / "decisions", copy_function=_link_or_copy)
        origin.write_text(source, encoding="utf-8")
    return thinned, None  # the truth is the whole city's


def province_world(args: argparse.Namespace) -> Path:
    world = args.root / "province"
    if not (world / "cities").is_dir():
        _python_module("aidmatch.data_samples.province", "--cities", str(args.cities), "--persons",
                       str(args.persons), "--seed", "11", "--as-of", AS_OF, "--out", str(world))  # fmt: skip
    if not (world / "input").is_dir():
        from aidmatch.data_samples.province import as_one_input

        as_one_input(world / "cities", world / "input.partial")
        (world / "input.partial").rename(world / "input")
    return world / "input"


def busy_processes(count: int) -> list[subprocess.Popen]:
    """Processes that compete for the cores: a tight loop each."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def contended(input_root: Path, args: argparse.Namespace) -> RunFigures:
    """The city's run again, beside two busy processes competing for the cores."""
    competitors = busy_processes(2)
    try:
        figures = run_world("city_contended", input_root, args.root, args.config)
        figures.label = "city, two busy processes beside it"
    finally:
        for process in competitors:
            process.send_signal(signal.SIGTERM)
            process.wait()
    shutil.rmtree(args.root / "runs" / "city_contended", ignore_errors=True)
    return figures


# --- nights that reuse the last one's work --------------------------------------------------------------------

RESENT = (
    "unemployment"  # the source most likely re-sent between monthly extracts: registrations open all month
)
_PHONE = re.compile(rb"(?<![0-9])(1[3-9][0-9])([0-9]{8})(?![0-9])")  # a mobile number, not inside an ID


def _day(as_of: str, days: int) -> str:
    return (date.fromisoformat(as_of) + timedelta(days=days)).isoformat()


def _link_or_copy(source: str, target: str) -> None:
    """A hard link to the city's file (no bytes copied); a copy where the folders are on two file systems.
    Not a symbolic link: the readers refuse a link that leads out of the input folder."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def edit_one_row(folder: Path) -> str:
    """Give one person of `folder`'s largest CSV/TXT file a new mobile number, as a department's corrected
    re-send would: the first data row from the file's middle on that has one. Only that line's bytes change:
    a line feed is never part of a GB18030 or UTF-8 character, so the file splits into lines as bytes, and
    the line is decoded, edited and encoded back in the file's encoding (GB18030's four-byte characters
    hold digit bytes). Returns what was changed, without the number."""
    texts = [p for p in folder.rglob("*") if p.suffix.lower() in (".csv", ".txt") and p.is_file()]
    if not texts:
        raise SystemExit(f"bench_pipeline: {folder} holds no CSV or TXT file to change a row of")
    path = max(texts, key=lambda p: (p.stat().st_size, p.name))
    data = path.read_bytes()
    codec = _beside("pension_city").line_codec(data) or "utf-8"
    lines = data.split(b"\n")
    for number in range(len(lines) // 2, len(lines)):
        text = lines[number].decode(codec)
        phone = _PHONE.search(text.encode("ascii", "replace"))  # the digits' places, whatever the encoding
        if phone:
            head, tail = phone.groups()
            new = head + str((int(tail) + 5_201_314) % 10**8).zfill(8).encode()
            text = text[: phone.start()] + new.decode() + text[phone.end() :]
            lines[number] = text.encode(codec)
            path.write_bytes(b"\n".join(lines))  # a copy (`resent`), not the city's file
            return f"{path.relative_to(folder.parent)}, line {number + 1}: a new mobile number"
    raise SystemExit(f"bench_pipeline: no row of {path} from its middle on holds a mobile number to change")


def nights_input(city_input: Path, target: Path) -> Path:
    """`target`/input (and /decisions, when the city has them): the city's files as hard links, laid out before
    the full night. Linking a file changes its change time, which is part of the identity a night knows an
    input file's digest by (`sources/digests.py`): laid out before the first night, every file keeps its
    identity through the three nights, and the one-source night's re-send touches its own folder only — as a
    department's does. (Linked into a new folder for that night, every file of the city was new to it, and
    its 1.2 GB hashed again.) Returns the input folder."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(city_input, target / "input", copy_function=_link_or_copy)
    decisions = city_input.parent / "decisions"  # `aidmatch run`'s default: beside the input folder
    if decisions.is_dir():
        shutil.copytree(decisions, target / "decisions", copy_function=_link_or_copy)
    return target / "input"


@contextlib.contextmanager
def resent(input_root: Path, source: str) -> Iterator[str]:
    """`source`'s folder of `input_root` (the nights' own, `nights_input`) replaced by a copy with one row
    edited (`edit_one_row`), as a department re-sends its extract; put back afterwards. Yields what was
    changed."""
    folder, kept = input_root / source, input_root.parent / f"{source}.kept"
    copy = input_root.parent / "resent" / source  # named as the folder it replaces: what `changed` says
    shutil.rmtree(copy.parent, ignore_errors=True)
    shutil.copytree(folder, copy)  # copies: the edit must not reach the city's files
    changed = edit_one_row(copy)
    folder.rename(kept)
    copy.rename(folder)
    copy.parent.rmdir()
    try:
        yield changed
    finally:
        shutil.rmtree(folder)
        kept.rename(folder)


def unchanged_night(input_root: Path, args: argparse.Namespace) -> RunFigures:
    """After the city's full night, in its folder (the same output and work folders and DAGSTER_HOME, so the
    night starts from the full night's work): the same extracts, the as-of a day on."""
    return run_night(
        "city, unchanged night", input_root, args.root / "runs" / "city", _day(AS_OF, 1), args.config
    )


def one_source_night(input_root: Path, args: argparse.Namespace) -> RunFigures:
    """After the unchanged night, in the same folders: `RESENT` re-sent with one row changed (`resent`), the
    as-of two days on from the full night's."""
    with resent(input_root, RESENT) as changed:
        print(f"\none source changed: {changed}")
        return run_night(
            f"city, one source changed ({RESENT})",
            input_root,
            args.root / "runs" / "city",
            _day(AS_OF, 2),
            args.config,
        )


def _beside(name: str):  # noqa: ANN202 - a module beside this one, by its file (a script has no package)
    spec = importlib.util.spec_from_file_location(name, _BENCH.with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def splink(database: Path, truth: Path) -> dict[str, float]:
    """Splink on the city's staged identities — one row per distinct (ID, name, birth date, sex), as our
    linker works on profiles; 10M contribution rows would give its EM training billions of pairs — with
    the pairwise precision, recall and F1 of both linkers' record clusters against the truth."""
    evaluate = _beside("evaluate_linking")
    con = duckdb.connect(str(database))
    identity = "hash(id_norm, name, birth_date, sex)::VARCHAR"
    con.execute(
        "CREATE OR REPLACE TABLE record_identity AS "
        + " UNION ALL ".join(
            f"SELECT source_record, {identity} AS unique_id, id_norm, name, birth_date, sex FROM staged_{s}"
            for s in SOURCES
        )
    )
    profiles = (
        "SELECT unique_id, any_value(id_norm) AS id_norm, any_value(name) AS name, "
        "any_value(birth_date) AS birth_date, any_value(sex) AS sex FROM record_identity GROUP BY unique_id"
    )
    (identities,) = con.execute(f"SELECT count(*) FROM ({profiles})").fetchall()[0]
    seconds = evaluate.run_splink(con, profiles)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    con.execute(
        "CREATE OR REPLACE TABLE splink_clusters AS SELECT r.source_record, c.cluster_id "
        "FROM record_identity AS r JOIN splink_clusters AS c ON c.source_record = r.unique_id"
    )
    evaluate.load_truth(con, truth)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW ours_clusters AS SELECT source_record, person_id AS cluster_id "
        "FROM core_person_links WHERE person_id IS NOT NULL"
    )
    scores = {
        "identities": identities,
        "splink_seconds": seconds,
        "splink_cpu": usage.ru_utime + usage.ru_stime,  # the process, its start and the copy's tables too
        "splink_peak_gib": usage.ru_maxrss / 2**20,
    }
    for name in ("ours", "splink"):
        precision, recall, f1 = evaluate.pairwise_scores(con, f"{name}_clusters")
        scores |= {f"{name}_precision": precision, f"{name}_recall": recall, f"{name}_f1": f1}
    return scores


def splink_beside(database: Path, truth: Path) -> dict[str, float]:
    """`splink` on a copy of a run's database, in a child process of its own (its peak RSS is Splink's,
    taken before the truth is loaded to score it)."""
    copy = database.with_name("splink.duckdb")
    shutil.copyfile(database, copy)
    try:
        out = subprocess.run(
            [sys.executable, str(_BENCH), "--splink-of", str(copy), "--truth", str(truth)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        copy.unlink(missing_ok=True)
    return json.loads(out.strip().splitlines()[-1])


# --- the report --------------------------------------------------------------------------------------------


def memory_budget(config: Path | None) -> tuple[str, float]:
    """The configured `database.memory_limit` and the budget of a run's RSS it sets (GiB): the limit plus
    what the Python side holds whatever the extracts' size (docs/scaling.md section 1)."""
    from aidmatch.settings import load_settings

    limit = load_settings(config).database.memory_limit
    number, unit = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", limit).groups()
    factor = {"b": 2**-30, "kb": 1e3 / GIB, "mb": 1e6 / GIB, "gb": 1e9 / GIB, "tb": 1e12 / GIB,
              "kib": 2**-20, "mib": 2**-10, "gib": 1, "tib": 2**10}[unit.lower()]  # fmt: skip
    return limit, float(number) * factor + PYTHON_GIB


def print_run(figures: RunFigures, config: Path | None) -> None:
    limit, budget = memory_budget(config)
    within = "within" if figures.peak / GIB <= budget else "OVER"
    print(
        f"\n{figures.label}: exit {figures.exit_code}, {figures.rows:,} rows read ({figures.insured:,} insured "
        f"persons); wall {figures.wall:.1f} s, CPU {figures.cpu:.1f} s, peak memory {figures.peak / GIB:.2f} GiB "
        f"({within} the budget of {budget:.1f} GiB: memory_limit {limit} + {PYTHON_GIB} GiB)"
    )
    load = os.getloadavg()
    print(
        f"  load average at its end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (1, 5, 15 min) on {os.cpu_count()} CPUs"
    )
    if figures.failure:
        print(f"  its terminal's last lines:\n{figures.failure}")
    print(f"  {'stage':8} {'wall s':>8} {'CPU s':>8} {'peak GiB':>9} {'k rows/s':>9}")
    for stage in figures.stages.values():
        rate = figures.rows / stage.wall / 1000 if stage.wall else 0
        print(f"  {stage.name:8} {stage.wall:8.1f} {stage.cpu:8.1f} {stage.peak / GIB:9.2f} {rate:9.0f}")
    print(
        f"  disk: work database {figures.work_bytes / GIB:.2f} GiB, largest spill {figures.spill_bytes / GIB:.2f} "
        f"GiB, published {figures.output_bytes / GIB:.2f} GiB"
    )


def print_splink(figures: RunFigures, scores: dict[str, float]) -> None:
    link = figures.stages["link"]
    print(
        f"  linking beside Splink 5 on the same staged records ({scores['identities']:,} distinct identities for "
        f"Splink):\n"
        f"    {'':8} {'wall s':>8} {'CPU s':>8} {'peak GiB':>9} {'precision':>10} {'recall':>8} {'F1':>8}\n"
        f"    {'ours':8} {link.wall:8.1f} {link.cpu:8.1f} {link.peak / GIB:9.2f} {scores['ours_precision']:10.5f} "
        f"{scores['ours_recall']:8.5f} {scores['ours_f1']:8.5f}\n"
        f"    {'splink':8} {scores['splink_seconds']:8.1f} {scores['splink_cpu']:8.1f} {scores['splink_peak_gib']:9.2f} "
        f"{scores['splink_precision']:10.5f} {scores['splink_recall']:8.5f} {scores['splink_f1']:8.5f}"
    )


def print_floor(label: str, figures: RunFigures, bare: dict[str, float]) -> None:
    text = bare["utf8_bytes"] + bare["gb18030_bytes"]
    print(
        f"  floor ({label}): {bare['seconds']:.1f} s — DuckDB scan of the UTF-8 files {bare['utf8_seconds']:.1f} s, "
        f"GB18030 files transcoded in a stream and scanned {bare['gb18030_seconds']:.1f} s "
        f"({bare['gb18030_bytes'] / text:.0%} of the text bytes); workbooks, not in it, are "
        f"{bare['workbook_bytes'] / (text + bare['workbook_bytes']):.1%} of the bytes"
    )
    print(f"  ours: {figures.wall / bare['seconds']:.1f}× the floor")


def print_nights(nights: dict[str, RunFigures], bare: dict[str, float]) -> None:
    """The table of the city's nights — the full one, the unchanged one, the one-source one — against the
    floor measured in this run: with the wall time outside the steps (the process's start, Dagster's run,
    the work database's copy), which no reuse saves, and what each built again (the manifest's `reused`)."""
    from aidmatch.assets.linking import LINKED_UNIT

    units = [f"{kind}_{source}" for source in SOURCES for kind in ("raw", "staged")] + [LINKED_UNIT]
    print(f"\ncity nights against the floor ({bare['seconds']:.1f} s, measured above):")
    print(
        f"  {'night':26} {'wall s':>8} {'CPU s':>8} {'peak GiB':>9} {'× floor':>8} {'outside steps s':>16}  built again"
    )
    for name, night in nights.items():
        built = [unit for unit in units if unit not in night.reused]
        outside = night.wall - sum(stage.wall for stage in night.stages.values())
        print(
            f"  {name:26} {night.wall:8.1f} {night.cpu:8.1f} {night.peak / GIB:9.2f} "
            f"{night.wall / bare['seconds']:8.1f} {outside:16.1f}  "
            f"{'all' if len(built) == len(units) else ', '.join(built) or 'nothing'}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/work/bench/scale"))
    parser.add_argument("--city-input", type=Path, help="an existing city's input folder (else generated)")
    parser.add_argument("--city-truth", type=Path, help="its truth folder, for --splink")
    parser.add_argument("--persons", type=int, default=1_000_000, help="people per city")
    parser.add_argument("--cities", type=int, default=10, help="cities in the province")
    parser.add_argument("--worlds", nargs="+", default=["city", "province"], choices=["city", "province"])
    parser.add_argument(
        "--contended", action="store_true", help="also run the city beside two busy processes"
    )
    parser.add_argument(
        "--nights",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="after the city's full night, an unchanged night and a one-source night that reuse its work",
    )
    parser.add_argument("--splink", action="store_true", help="also run Splink beside our linker on the city")
    parser.add_argument(
        "--pensions-only",
        action="store_true",
        help="the city with its pension contributions only (pension_city.py): the bureaus' 3-4 records a "
        "person, where the generator writes 11",
    )
    parser.add_argument("--config", type=Path, help="aidmatch configuration for the runs (e.g. memory_limit)")
    parser.add_argument("--keep", action="store_true", help="keep the runs' folders under ROOT/runs")
    parser.add_argument("--floor-of", type=Path, help=argparse.SUPPRESS)  # the child that measures the floor
    parser.add_argument("--splink-of", type=Path, help=argparse.SUPPRESS)  # the child that runs Splink
    parser.add_argument("--truth", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor_of:
        print(json.dumps(floor(args.floor_of)))
        return
    if args.splink_of:
        print(json.dumps(splink(args.splink_of, args.truth)))
        return
    if args.splink and args.pensions_only:
        parser.error("--splink needs the city's truth, which --pensions-only does not thin: not both")
    if args.splink and importlib.util.find_spec("splink") is None:  # say so before an hour of runs, not after
        parser.error("--splink needs Splink: pip install -e '.[baseline]'")
    inputs = {}
    if "city" in args.worlds:
        inputs["city"], truth = city_world(args)
        if args.nights:  # the three nights' own folder, laid out before the first of them
            inputs["city"] = nights_input(inputs["city"], args.root / "city_nights")
    if "province" in args.worlds:
        inputs["province"] = province_world(args)
    load = os.getloadavg()
    print(f"load average before the runs: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} CPUs")
    results: dict[str, RunFigures] = {}
    for label, input_root in inputs.items():
        figures = run_world(label, input_root, args.root, args.config)
        results[label] = figures
        print_run(figures, args.config)
        bare = measure_floor(input_root)
        print_floor(label, figures, bare)
        if label == "city" and args.nights:
            nights = {"full": figures}
            for name, night in (("unchanged", unchanged_night), (f"one source ({RESENT})", one_source_night)):
                nights[name] = night(input_root, args)
                print_run(nights[name], args.config)
            print_nights(nights, bare)
        if label == "city" and args.contended:  # before the province: the city's figures come first
            print_run(contended(input_root, args), args.config)
        if label != "city" and not args.keep:
            shutil.rmtree(args.root / "runs" / label, ignore_errors=True)
    if {"city", "province"} <= results.keys():
        city, province = results["city"], results["province"]
        print(
            f"\ngrowth city → province: records ×{province.rows / city.rows:.1f}, wall ×{province.wall / city.wall:.1f},"
            f" CPU ×{province.cpu / city.cpu:.1f}, peak RSS ×{province.peak / city.peak:.2f}"
        )
    for figures in results.values():
        million = figures.insured / 1e6
        if million:
            print(
                f"per million insured persons ({figures.label}): {figures.wall / million:.0f} s wall, "
                f"{figures.cpu / million:.0f} s CPU, work database {figures.work_bytes / GIB / million:.2f} GiB, "
                f"spill {figures.spill_bytes / GIB / million:.2f} GiB, published {figures.output_bytes / GIB / million:.2f} GiB"
            )
    if "city" in results:  # Splink last: the longest to wait for, on the city's run kept until now
        city_run = args.root / "runs" / "city"
        if args.splink and truth:
            print("\ncity:")
            print_splink(results["city"], splink_beside(city_run / "work" / AS_OF / "aidmatch.duckdb", truth))
        if not args.keep:
            shutil.rmtree(city_run, ignore_errors=True)
            shutil.rmtree(args.root / "city_nights", ignore_errors=True)


if __name__ == "__main__":
    main()
