"""report.html: the run report analysts open beside the lists — one self-contained page per run.

What belongs here: laying out `ReportFigures` as one HTML page with inline SVG charts (`charts.py`) and
plain tables. The page loads nothing: its Content-Security-Policy forbids every fetch, scripts included,
so it reads the same on an offline server, a laptop or an e-mail attachment. It holds counts, codes,
`source_record`s and masked IDs only; the full values are in the CSV files beside it. Each headline
figure carries a `data-figure` attribute naming what it counts, so a test (or a curious analyst) can
hold it against the published files.
"""

from collections import Counter, defaultdict
from html import escape
from pathlib import Path
from typing import Any

from aidmatch.matching.methods import LINK_METHODS
from aidmatch.publish import charts
from aidmatch.publish.report_figures import LIST_TABLES, REVIEW_PAIRS_PER_KIND, SCORE_BIN_BITS, ReportFigures
from aidmatch.rules.codes import LABELS, labels_of

REPORT_FILE = "report.html"
# Why a record linked by its own ID is in the review queue all the same.
_REVIEW_WHY = {
    "exact_id": "linked by its own valid ID, seen in no other source, and another person scores in the grey "
    "zone: maybe one person under two IDs"
}
SECOND_IDS_SHOWN = 50
LIST_LABELS = {
    "out_proactive": "主动发现名单 proactive",
    "out_removals": "应退出名单 removals",
    "out_zero_employment_households": "零就业家庭 households",
    "out_entitlements": "应享尽享 entitlements",
    "out_dibao_employment": "低保成员就业比对 dibao_employment",
    "out_households_at_risk": "零就业预警 households_at_risk",
    "out_disability_employment": "持证残疾人就业 disability_employment",
}
# The lists whose codes read in a list's own words (rules/codes.py: EMPLOYED is a removal reason first).
_LIST_KINDS = {
    "out_dibao_employment": "dibao_finding",
    "out_households_at_risk": "household_risk",
    "out_disability_employment": "disability_status",
}
# 残联's 就业率: the card holders of working age who work, of all of them.
_WORKING_STATUSES = ("EMPLOYED", "FLEXIBLY_EMPLOYED")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body { font-family: 'Noto Sans CJK SC', 'Noto Sans SC', sans-serif; margin: 24px auto; max-width: 1000px;
       color: #1d2330; font-size: 14px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin-top: 34px; border-bottom: 1px solid #ccd;
     padding-bottom: 4px; } h3 { font-size: 14px; margin: 18px 0 6px; }
.meta { color: #555; } .note { color: #555; font-size: 12px; max-width: 860px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 14px; }
.tile { border: 1px solid #d4d8e0; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.tile b { display: block; font-size: 22px; } .tile span { color: #555; font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0; font-size: 13px; }
th, td { border: 1px solid #d4d8e0; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f1f3f7; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
.pair { border: 1px solid #e2e5eb; border-radius: 6px; padding: 4px 10px; margin: 10px 0; }
"""


def _label(code: str, table: str | None = None) -> str:
    """`CODE 中文名`, in the words of `table`'s list when it has its own."""
    label = labels_of(_LIST_KINDS[table]).get(code) if table in _LIST_KINDS else LABELS.get(code)
    return f"{code} {label}" if label else code


def _table(header: list[str], rows: list[list[Any]], figures: list[str | None] | None = None) -> str:
    """A table; a cell of a number is right-aligned, and the row's `figures[i]` names its last cell."""
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, value in enumerate(row):
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            name = figures[i] if figures and j == len(row) - 1 and figures[i] else None
            attribute = f' data-figure="{escape(name)}"' if name else ""
            text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
            cells.append(f"<td{' class=n' if numeric else ''}{attribute}>{escape(text)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _tile(label: str, value: str, figure: str) -> str:
    return (
        f'<div class="tile"><b data-figure="{figure}">{escape(value)}</b><span>{escape(label)}</span></div>'
    )


def _summary(f: ReportFigures) -> str:
    tiles = [_tile(LIST_LABELS[t], f"{n:,}", f"list_rows:{t}") for t, n in f.list_rows.items()]
    tiles += [
        _tile("persons 人员", f"{f.persons:,}", "persons"),
        _tile("records 记录", f"{f.records:,}", "records"),
        _tile("linked 已关联", f"{f.linked:,}", "linked"),
        _tile("link rate 关联率", f"{f.link_rate:.2%}", "link_rate"),
        _tile("review queue 待核查", f"{f.review_rows:,}", "review_rows"),
        _tile("quarantine 质量问题行", f"{f.quarantine_rows:,}", "quarantine_rows"),
    ]
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _pivot(rows: list[dict[str, Any]], down: str, across: str, value: str, figure: str, label=str) -> str:
    """A table of `value` with one row per `down` and one column per `across`, totals on both; each cell's
    `data-figure` is `figure:<down>:<across>`, a row's total `figure:<down>:total`."""
    columns = sorted({r[across] for r in rows})
    cells: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        cells[(r[down], r[across])] += r[value]
    head = "".join(f"<th>{escape(h)}</th>" for h in ["", *columns, "total"])
    body = []
    for key in sorted({r[down] for r in rows}):
        line = "".join(
            f'<td class=n data-figure="{escape(f"{figure}:{key}:{c}")}">{cells[(key, c)]:,}</td>'
            if (key, c) in cells
            else "<td></td>"
            for c in columns
        )
        total = sum(cells[(key, c)] for c in columns if (key, c) in cells)
        body.append(
            f'<tr><th>{escape(label(key))}</th>{line}<td class=n data-figure="{escape(f"{figure}:{key}:total")}">'
            f"{total:,}</td></tr>"
        )
    totals = "".join(
        f"<td class=n>{sum(n for (_, c), n in cells.items() if c == col):,}</td>" for col in columns
    )
    body.append(f"<tr><th>total</th>{totals}<td class=n>{sum(cells.values()):,}</td></tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _lists(f: ReportFigures) -> str:
    parts = [
        '<p class="note">A row with several reasons counts once under each of them: the reasons of a list '
        "add up to more than its rows. 一行有多个原因时，每个原因各计一次。</p>"
    ]
    for table, rows in f.list_rows.items():
        parts.append(f"<h3>{escape(LIST_LABELS[table])} — {rows:,} rows</h3>")
        groups = [g for g in f.list_groups if g["list"] == table]
        if not any(g["reason"] for g in groups):
            bars = [(_label(group, table), n) for (t, group), n in sorted(f.group_rows.items()) if t == table]
            parts.append(charts.bar_chart(bars, f"{table} by {LIST_TABLES[table][0]}"))
        for (t, group), n in sorted(f.group_rows.items()):
            if t != table or not any(g["reason"] for g in groups):
                continue
            reasons: dict[str, int] = defaultdict(int)
            for g in groups:
                if g["group"] == group:
                    reasons[_label(g["reason"])] += g["rows"]
            parts.append(f"<p>{escape(_label(group))}: {n:,} rows</p>")
            parts.append(charts.bar_chart(sorted(reasons.items()), f"{table} {group} by reason"))
        if any(g["district"] for g in groups):
            parts.append(
                _pivot(
                    [
                        {**g, "district": g["district"] or "（空）", "reason": g["reason"] or g["group"]}
                        for g in groups
                    ],
                    "reason",
                    "district",
                    "rows",
                    f"district:{table}",
                    lambda code, table=table: _label(code, table),
                )
            )
    return "".join(parts)


def _trend(f: ReportFigures) -> str:
    dates = [run["as_of"] for run in f.trend]
    names = {
        "proactive": "proactive",
        "removals": "removals",
        "households": "zero_employment_households",
        "entitlements": "entitlements",
        "dibao_employment": "dibao_employment",
        "disability_employment": "disability_employment",
        "households_at_risk": "households_at_risk",
    }
    lists = {name: [run.get(key) for run in f.trend] for name, key in names.items()}
    queues = {name: [run.get(name) for run in f.trend] for name in ("review_queue", "quarantine")}
    rates = [
        [run["as_of"], *(run.get(k, "") for k in ("records", "persons", "link_rate"))] for run in f.trend
    ]
    return (
        f"<p class=note>The last {len(dates)} published runs, this one last (from their manifest.json).</p>"
        + charts.line_chart(dates, lists, "list sizes by run")
        + charts.line_chart(dates, queues, "review queue and quarantine rows by run")
        + _table(["as-of", "records", "persons", "link rate"], rates)
    )


def _changes(f: ReportFigures) -> str:
    if not f.changes:
        return "<p>No list changed since the previous run.</p>"
    since = f"since {f.previous_as_of}" if f.previous_as_of else "the first run: every entry entered"
    return f"<p class=note>changes.csv, {escape(since)}.</p>" + _table(
        ["list", "change", "entries"],
        [[c["list"], c["change"], c["entries"]] for c in f.changes],
        [f"change:{c['list']}:{c['change']}" for c in f.changes],
    )


def _rate_rows(counts: dict[str, Counter], statuses: list[str], figure: str) -> tuple[list[list], list[str]]:
    """One row per key: the rows of each status, the total and the share working (就业率); its figure name."""
    rows, figures = [], []
    for key, by_status in counts.items():
        total = sum(by_status.values())
        working = sum(by_status[s] for s in _WORKING_STATUSES)
        rows.append(
            [key, *(by_status[s] for s in statuses), total, f"{working / total:.1%}" if total else ""]
        )
        figures.append(f"{figure}:{key}")
    return rows, figures


def _partners(f: ReportFigures) -> str:
    """民政's and 残联's lists and the early warning: what each department gets, 残联's 就业率 by district and
    grade, and the people the removal list names too."""
    statuses = list(labels_of("disability_status"))
    by_district: dict[str, Counter] = defaultdict(Counter)
    by_grade: dict[int, Counter] = defaultdict(Counter)
    for r in f.card_holders:
        by_district[r["district"] or "（空）"][r["status"]] += r["rows"]
        by_grade[r["grade"] or 9][r["status"]] += r["rows"]  # 9: the card does not say, last
    every: Counter = Counter()
    for counts in by_district.values():
        every.update(counts)
    grades = {"一二三四"[g - 1] + "级" if g < 9 else "等级不详": by_grade[g] for g in sorted(by_grade)}
    labels = [_label(s, "out_disability_employment") for s in statuses]
    district_rows, district_figures = _rate_rows(
        {**dict(sorted(by_district.items())), "total": every}, statuses, "employment_rate"
    )
    grade_rows, grade_figures = _rate_rows(grades, statuses, "employment_rate_grade")
    removed = f.on_removal_list
    return (
        "<p class=note>What the partner departments get back (部门联动): 民政 the active 低保 members whose record "
        "does not say 在业 although they work (dibao_employment.csv, dibao_employment.xlsx: to update the record, "
        "deduct work costs and apply 低保渐退, not to cut anyone off); 残联 every working-age holder of a valid card "
        "with their employment status (disability_employment.csv, disability_employment.xlsx). The early warning "
        "(households_at_risk.csv, .xlsx) names the urban 低保 households one job away from zero employment.</p>"
        "<h3>持证残疾人就业率 Card holders of working age by district</h3>"
        "<p class=note>就业率: EMPLOYED and FLEXIBLY_EMPLOYED of all the card holders listed.</p>"
        + _table(
            ["区县 district", *labels, "total", "就业率 employed share"], district_rows, district_figures
        )
        + "<h3>By grade 按残疾等级</h3>"
        + _table(["等级 grade", *labels, "total", "就业率 employed share"], grade_rows, grade_figures)
        + "<h3>Also on the removal list 同时列入应退出名单</h3>"
        + _table(
            ["list", "rows whose person is registered and on the removal list for the same work"],
            [[LIST_LABELS[t], n] for t, n in removed.items()],
            [f"on_removal_list:{t}" for t in removed],
        )
    )


def _linking(f: ReportFigures) -> str:
    by_method: dict[str, int] = defaultdict(int)
    for row in f.methods:
        by_method[row["method"]] += row["records"]
    thresholds = {"review": f.review_threshold, "accept": f.accept_threshold}
    return (
        "<h3>Records by link method 比对方式</h3>"
        + charts.bar_chart(sorted(by_method.items(), key=lambda kv: -kv[1]), "records by link method")
        + "<h3>Score distribution 比对得分分布</h3>"
        + f"<p class=note>Every record scored against a candidate person, by its best score ({SCORE_BIN_BITS}-bit "
        f"bins): linked at or above accept {f.accept_threshold:g}, to review in the grey zone from "
        f"{f.review_threshold:g} (and records whose own ID links them but lies near another person), unlinked "
        f"below it or on a tie. Records linked by their own valid ID alone are not drawn, nor the "
        f'<span data-figure="no_candidate">{f.no_candidate:,}</span> records with no candidate at all.</p>'
        + charts.score_histogram(f.score_bins, SCORE_BIN_BITS, thresholds, "score distribution")
        + "<h3>By method and source 按比对方式和来源</h3>"
        + _pivot(f.methods, "method", "source", "records", "method")
    )


def _weights(f: ReportFigures) -> str:
    return (
        "<p class=note>Each comparison level's match weight log2(m/u), in bits (Fellegi–Sunter): a record's score "
        "is the sum of one level per comparison; a missing value weighs 0. m and u are in the configuration "
        "(linking).</p>"
        + charts.match_weights_chart([(c, lv, w) for c, lv, _, _, w in f.weights], "match weights")
        + _table(
            ["comparison", "level", "m", "u", "weight (bits)"],
            [[c, lv, f"{m:g}", f"{u:g}", f"{w:+.2f}"] for c, lv, m, u, w in f.weights],
        )
    )


def _review(f: ReportFigures) -> str:
    if not f.review_pairs:
        return '<p>The review queue is empty (<span data-figure="review_pairs">0</span> pairs).</p>'
    thresholds = {"review": f.review_threshold, "accept": f.accept_threshold}
    parts = [
        f'<p class=note><span data-figure="review_pairs">{len(f.review_pairs)}</span> of the {f.review_rows:,} '
        f"pairs in review_queue.csv — the {REVIEW_PAIRS_PER_KIND} highest-scored of each reason for review "
        "(candidate IDs masked here, in full in the CSV): the weight of each comparison, summed from zero to "
        "the pair's score.</p>"
    ]
    for pair in f.review_pairs:
        steps = [(f"{c}={lv}", w) for c, lv, w in pair.levels]
        why = _REVIEW_WHY.get(pair.method, LINK_METHODS.get(pair.method, pair.method))
        parts.append(
            f'<div class="pair"><h3>{escape(pair.source_record)} → {escape(pair.candidate)} · score {pair.score:+.1f}'
            f'</h3><p class="note">{escape(pair.method)}: {escape(why)}</p>'
            f"{charts.waterfall_chart(steps, thresholds, f'weights behind {pair.source_record}')}</div>"
        )
    return "".join(parts)


def _second_ids(f: ReportFigures) -> str:
    records = sum(r["records"] for r in f.second_ids)
    count = f'<span data-figure="second_id_records">{records:,}</span>'
    if not f.second_ids:
        return f"<p>No record was linked to a person under another valid ID ({count} records).</p>"
    shown = f.second_ids[:SECOND_IDS_SHOWN]
    return (
        f'<p class=note><span data-figure="second_id_persons">{len(f.second_ids):,}</span> IDs of {count} records '
        "belong to another person: a valid ID of its own, linked to a person with the same region, birth date "
        f"and name (method fuzzy_second_id) — one person under two IDs (一人多证). The first {len(shown)} "
        "(IDs masked; in full in person_links.csv):</p>"
        + _table(
            ["second ID", "person", "records", "first record", "score"],
            [
                [r["record_id"], r["person_id"], r["records"], r["first_record"], f"{r['score']:+.1f}"]
                for r in shown
            ],
        )
    )


def _quarantine(f: ReportFigures) -> str:
    if not f.quarantine:
        return "<p>No row failed a row rule.</p>"
    by_source: dict[str, int] = defaultdict(int)
    for row in f.quarantine:
        by_source[row["source"]] += row["rows"]
    return (
        charts.bar_chart(sorted(by_source.items()), "quarantine rows by source", charts.AMBER)
        + "<p class=note>Every row-level failure of quarantine.csv: <b>rejected</b> rows were not staged, "
        "<b>kept</b> rows were staged with the defect flagged. A row failing two rules counts under each.</p>"
        + _pivot(
            [{**r, "rule": f"{r['rule']} ({r['action']})"} for r in f.quarantine],
            "rule",
            "source",
            "rows",
            "quarantine",
        )
    )


def _decisions(f: ReportFigures) -> str:
    total = sum(f.decisions.values())
    count = f'<span data-figure="decisions">{total:,}</span>'
    if not total:
        return f"<p>No decision was read from the decisions folder ({count} decided rows).</p>"
    parts = [
        f"<p class=note>{count} decided rows of the decision files, by what became of them (every one, "
        "with its file and row, in decisions_applied.csv).</p>",
        _table(
            ["status", "decided rows"],
            [[status, n] for status, n in f.decisions.items()],
            [f"decisions:{status}" for status in f.decisions],
        ),
    ]
    if f.label_accuracy:
        parts.append(
            "<h3>Accuracy from labels 人工核查结果</h3><p class=note>Per method the linker proposed: how many of "
            "its pairs that people decided they confirmed — the decided pairs are labels, a method with a low "
            "share needs its thresholds looked at.</p>"
            + _table(
                ["method", "confirmed", "rejected", "confirmed share"],
                [
                    [r["method"], r["confirmed"], r["rejected"], f"{r['confirmed_share']:.0%}"]
                    for r in f.label_accuracy
                ],
            )
        )
    return "".join(parts)


def _visits(f: ReportFigures) -> str:
    """The street offices' visits of the period, per street (the progress table's 走访进度 sheet)."""
    total = next(row for row in f.visits if row["district"] == "合计")
    count = f'<span data-figure="visits:visited">{total["visited"]:,}</span>'
    outcomes = [key for key in total if key not in ("district", "street", "listed", "visited", "to_visit")]
    return (
        f"<p class=note>{count} people visited in the period (their latest outcome), "
        f"{total['to_visit']:,} still to visit on the streets' 走访 sheets, of {total['listed']:,} on the "
        "proactive list. The outcomes come from the work lists the street offices hand back "
        "(by_street/, read from the decisions folder).</p>"
        + _table(
            ["district", "street", "listed", "visited", *(_label(k) for k in outcomes), "to visit"],
            [
                [
                    r["district"],
                    r["street"],
                    r["listed"],
                    r["visited"],
                    *(r[k] for k in outcomes),
                    r["to_visit"],
                ]
                for r in f.visits
            ],
            [f"visits:{r['district']}:{r['street']}:to_visit" for r in f.visits],
        )
    )


def render_report(f: ReportFigures, run_id: str, code_version: str) -> str:
    sections = [
        ("lists", "名单 The lists, by group and reason", _lists(f)),
        ("trend", "趋势 The last runs", _trend(f)),
        ("changes", "变化 Changes since the previous run", _changes(f)),
        ("partners", "部门联动 For the partner departments, and the early warning", _partners(f)),
        ("linking", "比对 Identity resolution", _linking(f)),
        ("weights", "权重 Match weights of every comparison level", _weights(f)),
        ("review", "待核查 The review queue, pair by pair", _review(f)),
        ("second-ids", "一人多证 Persons under several IDs", _second_ids(f)),
        ("visits", "走访 The street offices' visits of the period", _visits(f)),
        ("decisions", "人工决定 Decisions by people", _decisions(f)),
        ("quarantine", "质量 Quarantine by source and rule", _quarantine(f)),
    ]
    body = "".join(
        f'<section id="{key}"><h2>{escape(title)}</h2>{html}</section>' for key, title, html in sections
    )
    previous = f" · previous run {escape(f.previous_as_of)}" if f.previous_as_of else " · first run"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="zh-CN"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        f"<title>aidmatch run report {escape(f.as_of)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>就业援助大数据比对 · 运行报告 — as-of {escape(f.as_of)}</h1>"
        f'<p class="meta">run {escape(run_id)} · code {escape(code_version)}{previous}</p>'
        f"{_summary(f)}{body}</body></html>\n"
    )


def write_report(path: Path, figures: ReportFigures, run_id: str, code_version: str) -> None:
    path.write_text(render_report(figures, run_id, code_version), encoding="utf-8")
