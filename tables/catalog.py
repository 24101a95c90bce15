"""The tables (and views) of a run past staging, declared once, and the CSV files the case systems import.

Every table and view a later step reads is here: the asset graph depends on the tables a query reads
only once they are declared (`reads.py`).

What belongs here: each table's columns in order (a CSV's columns are its table's published columns, in
this order: SPEC section 5's first, then `evidence` and the like), types, nullability, code lists and
patterns, the table's grain and the layer it belongs to. The staged tables are declared in
`sources/tables.py` and gathered here. What does not belong here: the SQL that fills a table (beside the
part that computes it) and how a declaration is turned into DDL or a schema (`ddl.py`, `contract.py`).
"""

from dataclasses import dataclass

from aidmatch.sources.raw_table import SURPLUS_COLUMN
from aidmatch.sources.tables import (
    DEPARTMENTS,
    PERSON_ID_PATTERN,
    SOURCE_RECORD_PATTERN,
    SOURCE_RECORD_SQL,
    SOURCE_ROW_SQL,
    SOURCES,
    Column,
    staged_columns,
)


@dataclass(frozen=True)
class Table:
    name: str
    layer: str  # raw | staged | core | facts | out | quality
    grain: str  # what one row is
    description: str
    columns: tuple[Column, ...]
    csv: str | None = None  # the published CSV file's name without extension
    # ORDER BY of the CSV's rows: a total order (no two rows tie), so the same extracts give the same bytes
    csv_order: str = ""
    # Stored in `csv_order` (`ddl.build_table` sorts as it fills it): the CSV is written in the table's own
    # order, without a sort at each publication (ten million person links; DuckDB keeps insertion order).
    stored_in_csv_order: bool = False
    personal_data: bool = True  # names or citizen IDs in its rows

    @property
    def stored(self) -> tuple[Column, ...]:
        """The columns rows are inserted into (a generated column is computed, never inserted)."""
        return tuple(c for c in self.columns if c.generated is None)

    @property
    def published(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.published)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _source(nullable: bool = False, **kwargs) -> Column:
    return Column("source", "VARCHAR", "source folder (department)", nullable, codes="source", **kwargs)


def _record(
    description: str = "<folder>/<file>[#<sheet>]:<row>, the row as a spreadsheet or editor shows it",
) -> Column:
    return Column("source_record", "VARCHAR", description, False, pattern=SOURCE_RECORD_PATTERN)


def _person(
    name: str = "person_id",
    description: str = "the person: normalized 18-character citizen ID",
    nullable: bool = False,
) -> Column:
    return Column(name, "VARCHAR", description, nullable, pattern=PERSON_ID_PATTERN)


# Where a record is: stored as its parts (ten million unique strings are costly), `source_record` computed.
RECORD_PLACE: tuple[Column, ...] = (
    _source(),
    Column("source_file", "VARCHAR", "file path relative to the input root", False, published=False),
    Column("source_sheet", "VARCHAR", "sheet name (xlsx, xls), NULL for CSV", published=False),
    Column("source_row", "INTEGER", "row number as a spreadsheet or editor shows it", False, published=False),
    Column(
        "source_record",
        "VARCHAR",
        "<folder>/<file>[#<sheet>]:<row> (computed from the three columns before it)",
        False,
        pattern=SOURCE_RECORD_PATTERN,
        generated=SOURCE_RECORD_SQL,
    ),
)
_EVIDENCE_WEIGHTS = "the weight of each comparison: id=<level>(+bits) name=… birth_date=… sex=…"

CORE_PERSON_LINKS = Table(
    "core_person_links",
    "core",
    "staged record",
    "Every staged record with its person, the method that linked it (or why not) and the score.",
    (
        *RECORD_PLACE,
        _person(description="the person linked to; empty when unlinked", nullable=True),
        Column("method", "VARCHAR", "how it was linked, or unlinked:<why>", False, codes="link_method"),
        Column("score", "DOUBLE", "summed match weight in bits of the chosen candidate; empty when none"),
        Column("evidence", "VARCHAR", _EVIDENCE_WEIGHTS),
    ),
    csv="person_links",
    csv_order="source, source_file, source_sheet NULLS FIRST, source_row",
    stored_in_csv_order=True,
)
CORE_REVIEW_QUEUE = Table(
    "core_review_queue",
    "core",
    "uncertain link (record × candidate person)",
    "Links an analyst decides: the grey zone, ties, an ID under another person's name, a lone ID near "
    "another person.",
    (
        _source(),
        _record(),
        _person("candidate_person_id", "the candidate person"),
        Column("score", "DOUBLE", "summed match weight in bits", False),
        Column("evidence", "VARCHAR", _EVIDENCE_WEIGHTS, False),
        # What the review form (review_queue.xlsx) shows an analyst beside the pair; not in the CSV.
        Column(
            "record_key", "VARCHAR", "the record's content key (decisions/keys.py)", False, published=False
        ),
        Column(
            "record_id", "VARCHAR", "the record's ID as normalized (or its surviving prefix)", published=False
        ),
        Column("record_name", "VARCHAR", "the record's name", published=False),
        Column("record_sex", "VARCHAR", "the record's sex", published=False),
        Column("record_birth_date", "DATE", "the record's birth date", published=False),
        Column("candidate_name", "VARCHAR", "the candidate person's reference name", published=False),
    ),
    csv="review_queue",
    csv_order="score DESC, source, source_record, candidate_person_id",
)
# Who a person is: the ID, the name most sources use, and what the ID says.
PERSON: tuple[Column, ...] = (
    _person(),
    Column("name", "VARCHAR", "reference name: the one most sources use"),
    Column("sex", "VARCHAR", "from the ID", False, codes="sex"),
    Column("birth_date", "DATE", "from the ID", False),
)
CORE_PERSONS = Table(
    "core_persons",
    "core",
    "person",
    "One row per person (key: the normalized 18-character citizen ID).",
    (
        *PERSON,
        Column("sources", "VARCHAR[]", "the sources holding a record of the person", False),
        Column("record_count", "BIGINT", "records linked to the person", False),
    ),
)

CORE_PROFILE_PERSONS = Table(
    "core_profile_persons",
    "core",
    "linked profile (one distinct source + identity of the staged records)",
    "The person each linked profile went to (matching/link.py): a record finds its person by its profile, a "
    "hash of its identity columns, in a table of a million rows where core_person_links has one per record "
    "(ten million contributions). The view linked_si_contributions joins the contributions through it.",
    (
        Column("profile_id", "UBIGINT", "hash of the record's source and identity columns", False),
        _person(),
    ),
    personal_data=True,
)
LINKED_SI_CONTRIBUTIONS = Table(
    "linked_si_contributions",
    "core",
    "linked contribution record",
    "A view: every staged contribution whose record is linked, with its person, found through "
    "core_profile_persons (matching/link.py): the rules read contributions through it.",
    (*staged_columns("si_contributions"), _person(description="the person the record is linked to")),
)
_REASONS = "reason codes, sorted, joined by ;"
_LIST_EVIDENCE = (
    "per reason: CODE: what the data shows, joined by ' | '; then LOCATION: where the contact came from"
)
_FROM_LOCATIONS = (
    "(facts_locations: the best value the sources hold; `evidence` ends with where it came from)"
)
_FACT = "(the fact, false when no linked record says so)"
_PERSON_FACTS: tuple[Column, ...] = (
    _person(),
    Column("name", "VARCHAR", "reference name: the one most sources use"),
    Column(
        "sex",
        "VARCHAR",
        "from the ID; empty when unknown (the men's retirement rule applies)",
        codes="sex",
    ),
    Column("birth_date", "DATE", "from the ID", False),
    Column("sources", "VARCHAR[]", "the sources holding a record of the person", False),
    Column("age", "BIGINT", "whole years at D", False),
    Column("retirement_category", "VARCHAR", "the retirement rule applied: men, or the women's", False),
    Column("retirement_date", "DATE", "法定退休日期 under that rule", False),
    Column("working_age", "BOOLEAN", "at least rules.min_working_age and before the retirement date", False),
    Column("retirement_evidence", "VARCHAR", "birth and retirement dates"),
    Column("employed", "BOOLEAN", f"a paid 单位职工 contribution in the look-back months {_FACT}", False),
    Column(
        "flexibly_employed", "BOOLEAN", "paid 灵活就业 contributions only, in the look-back months", False
    ),
    Column("employment_months", "VARCHAR[]", "the 单位职工 months paid, YYYY-MM"),
    Column("employers", "VARCHAR[]", "the employers of those months"),
    Column("flexible_months", "VARCHAR[]", "the 灵活就业 months paid, YYYY-MM"),
    Column("employment_evidence", "VARCHAR", "months and employers"),
    Column("flexible_evidence", "VARCHAR", "the 灵活就业 months"),
    Column("last_employment_month", "DATE", "the latest paid 单位职工 month of the look-back"),
    Column("latest_employer_id", "VARCHAR", "单位编号 of that month (the smallest on a tie)"),
    Column("latest_employer_name", "VARCHAR", "单位名称 of that employer"),
    Column("dibao_active", "BOOLEAN", f"an active (在保) 低保 or 低保边缘 record {_FACT}", False),
    Column("dibao_household_id", "VARCHAR", "户编号 of the latest active 低保 record"),
    Column("dibao_type", "VARCHAR", "its 低保类型"),
    Column("work_capacity", "VARCHAR", "its 劳动能力"),
    Column("employment_status", "VARCHAR", "its 就业状况"),
    Column("dibao_relation", "VARCHAR", "its 与户主关系"),
    Column("dibao_record", "VARCHAR", "that record (source_record)"),
    Column("dibao_evidence", "VARCHAR", "that record"),
    Column("works_per_dibao", "BOOLEAN", "an active 低保 record says 就业状况 在业", False),
    Column("student", "BOOLEAN", "a 低保 record, stopped ones too, says 在校学生", False),
    Column("student_evidence", "VARCHAR", "that record"),
    Column("no_work_capacity", "BOOLEAN", "a 低保 record, stopped ones too, says 完全丧失劳动能力", False),
    Column("no_work_capacity_evidence", "VARCHAR", "that record"),
    Column("disabled", "BOOLEAN", f"a valid disability card at D {_FACT}", False),
    Column("disability_grade", "INTEGER", "its grade, 1 to 4"),
    Column("disability_category", "VARCHAR", "its category"),
    Column("disability_record", "VARCHAR", "that card's record (source_record)"),
    Column("disability_evidence", "VARCHAR", "that card"),
    Column("registered", "BOOLEAN", f"a linked unemployment registration {_FACT}", False),
    Column("registered_on", "DATE", "the earliest registration's 登记日期"),
    Column("is_difficult", "BOOLEAN", "a registration says 就业困难人员 = 是", False),
    Column("difficulty_categories", "VARCHAR[]", "the 就业困难人员 categories those registrations list"),
    Column("registration_record", "VARCHAR", "the earliest registration's record (source_record)"),
    Column("registration_evidence", "VARCHAR", "the earliest registration"),
    Column("recognized_on", "DATE", "认定日期: the earliest of the 就业困难人员 registrations"),
    Column("recognition_record", "VARCHAR", "its registration"),
    Column("retired", "BOOLEAN", f"社保 says 离退休 {_FACT}", False),
    Column("retired_on", "DATE", "its 离退休日期"),
    Column("retired_evidence", "VARCHAR", "that record"),
    Column("deceased", "BOOLEAN", f"社保 says 死亡 {_FACT}", False),
    Column("deceased_evidence", "VARCHAR", "that record"),
    Column(
        "working",
        "BOOLEAN",
        "a paid 单位职工 or 灵活就业 contribution, or an active 低保 record's 在业",
        False,
    ),
    Column(
        "match_confidence",
        "VARCHAR",
        "exact: every record of the person linked by its exact valid ID; else fuzzy; empty without a record",
        codes="match_confidence",
    ),
)
FACTS_PERSONS = Table(
    "facts_persons",
    "facts",
    "person",
    "The facts of SPEC section 4 about each person of core_persons as of D, from the linked records only, "
    "each with the evidence a case worker checks it by (rules/persons.sql): the lists read these.",
    _PERSON_FACTS,
)


def _person_facts(*names: str) -> tuple[Column, ...]:
    """The person_id and the columns `names` of facts_persons, declared there."""
    return tuple(c for c in _PERSON_FACTS if c.name == "person_id" or c.name in names)


# facts_persons is made each night from two tables that hold longer (rules/facts.py): what a person's records
# say whatever the as-of date, reused while the linked tables are; the look-back's contributions, reused
# within the as-of month.
FACTS_PERSON_RECORDS = Table(
    "facts_person_records",
    "facts",
    "person",
    "What each person's linked records say whatever the as-of date — retirement date, 低保, registration, "
    "社保 status, match confidence, each with its evidence (rules/person_records.sql): facts_persons adds "
    "the facts of the date.",
    _person_facts(
        "name",
        "sex",
        "birth_date",
        "sources",
        "retirement_category",
        "retirement_date",
        "retirement_evidence",
        "dibao_active",
        "dibao_household_id",
        "dibao_type",
        "work_capacity",
        "employment_status",
        "dibao_relation",
        "dibao_record",
        "dibao_evidence",
        "works_per_dibao",
        "student",
        "student_evidence",
        "no_work_capacity",
        "no_work_capacity_evidence",
        "registered",
        "registered_on",
        "is_difficult",
        "difficulty_categories",
        "registration_record",
        "registration_evidence",
        "recognized_on",
        "recognition_record",
        "retired",
        "retired_on",
        "retired_evidence",
        "deceased",
        "deceased_evidence",
        "match_confidence",
    ),  # fmt: skip
)
FACTS_PERSON_WORK = Table(
    "facts_person_work",
    "facts",
    "person with a paid 单位职工 or 灵活就业 contribution in the look-back months",
    "Each person's paid contributions in the look-back months before the as-of month, employer by employer "
    "(rules/person_work.sql): the same for every as-of date of a month.",
    _person_facts(
        "employed",
        "flexibly_employed",
        "employment_months",
        "employers",
        "flexible_months",
        "last_employment_month",
        "latest_employer_id",
        "latest_employer_name",
    ),  # fmt: skip
)
FACTS_PERSON_EMPLOYERS = Table(
    "facts_person_employers",
    "facts",
    "就业困难人员 × employer paying them 单位职工 contributions in the look-back months",
    "Each recognized person's employers of the look-back months: the first month each paid for them in the "
    "whole extract and the look-back months it paid (rules/person_employers.sql), for the 单位吸纳 subsidy "
    "(out_entitlements): the same for every as-of date of a month.",
    (
        Column("person_id", "VARCHAR", "the person (facts_person_records.is_difficult)", False),
        Column("employer", "VARCHAR", "单位编号, else 单位名称: the employer", False),
        Column("employer_id", "VARCHAR", "单位编号"),
        Column("employer_name", "VARCHAR", "单位名称 of the employer's latest month that names one"),
        Column(
            "first_month",
            "DATE",
            "the employer's first paid 单位职工 month for the person in the extract",
            False,
        ),
        Column("lookback_months", "VARCHAR[]", "the look-back months it paid, YYYY-MM, sorted", False),
    ),
)
# Where a person lives and how to reach them (SPEC section 5, "点对点"), for the street and community offices.
LOCATION: tuple[Column, ...] = (
    Column("district", "VARCHAR", f"区县 {_FROM_LOCATIONS}"),
    Column("street", "VARCHAR", f"街道 (or 镇/乡) {_FROM_LOCATIONS}"),
    Column("community", "VARCHAR", f"社区 (or 村) {_FROM_LOCATIONS}"),
    Column("phone", "VARCHAR", f"联系电话 {_FROM_LOCATIONS}"),
    Column("address", "VARCHAR", f"居住地址 or 户籍地址 {_FROM_LOCATIONS}"),
)
FACTS_LOCATIONS = Table(
    "facts_locations",
    "facts",
    "person some source places",
    "Where each person lives and how to reach them, each field the best value the sources hold: 登记失业 "
    "(the latest registration) first, then 低保 (in force first), then the disability card's 户籍地址; "
    "within a record a stated column before what its address spells out (rules/locations.sql).",
    (
        _person(),
        *(Column(c.name, c.sql_type, c.description.split(" (")[0]) for c in LOCATION),
        Column("evidence", "VARCHAR", "which record (and its address or a column) each value came from"),
    ),
)
_MEMBER_IDS = "every linked member's person_id, sorted, joined by ;"
_MEMBER_NAMES = "each member's reference name, in the order of member_ids, joined by ;"
_MEMBER_RELATIONS = "each member's 与户主关系 (relation to the head), in the order of member_ids, joined by ;"
_HOUSEHOLD_PLACE = "from the head's 低保 row (else the first in-force row that has it)"
FACTS_HOUSEHOLDS = Table(
    "facts_households",
    "facts",
    "active urban 低保 household with a linked member",
    "Each active (在保) urban household (城市低保 / 城市低保边缘), its linked members, which of them are counted "
    "(working age, able to work, not at school) and which of those work, and where it lives "
    "(rules/households.sql): what the zero-employment list and the early warning read.",
    (
        Column("household_id", "VARCHAR", "户编号", False),
        Column("assistance_types", "VARCHAR", "the in-force 保障类型 of its rows, joined by 、", False),
        Column(
            "working_age_members",
            "BIGINT",
            "members counted: working age, able to work, not at school",
            False,
        ),
        Column("registered_unemployed_members", "BIGINT", "working-age members registered unemployed", False),
        Column("working_member_ids", "VARCHAR[]", "the counted members who are working, sorted", False),
        Column("member_ids", "VARCHAR", _MEMBER_IDS, False),
        Column("member_names", "VARCHAR", _MEMBER_NAMES),
        Column("member_relations", "VARCHAR", _MEMBER_RELATIONS),
        Column(
            "counted_members",
            "VARCHAR",
            "the counted members, （已登记失业） after those registered, joined by 、",
        ),
        Column(
            "not_counted_members",
            "VARCHAR",
            "the other members, each with why it is not counted, joined by 、",
        ),
        Column("unlinked_records", "VARCHAR", "its member rows the linker left unlinked, joined by 、"),
        Column("district", "VARCHAR", f"区县: {_HOUSEHOLD_PLACE}"),
        Column("street", "VARCHAR", f"街道: {_HOUSEHOLD_PLACE}"),
        Column("place_evidence", "VARCHAR", "which 低保 row the district and street came from"),
    ),
)
OUT_PROACTIVE = Table(
    "out_proactive",
    "out",
    "person",
    "主动发现名单: people to recognize as 就业困难人员 (RECOGNIZE) or to visit (OUTREACH), with reasons and evidence.",
    (
        *PERSON,
        Column("category", "VARCHAR", "RECOGNIZE or OUTREACH", False, codes="category"),
        Column("reasons", "VARCHAR", _REASONS, False, codes="proactive_reason", separator=";"),
        Column(
            "sources",
            "VARCHAR",
            "the sources holding a record of the person, joined by ;",
            False,
            codes="source",
            separator=";",
        ),
        Column("match_confidence", "VARCHAR", "exact or fuzzy", False, codes="match_confidence"),
        Column("evidence", "VARCHAR", _LIST_EVIDENCE, False),
        *LOCATION,
        # SPEC section 6: the proactive list ends in a visit, which the street office records (decisions/visits.py)
        Column(
            "outcome",
            "VARCHAR",
            "the person's latest visit outcome, from a street office's 走访 sheet; empty when not visited",
            codes="visit_outcome",
        ),
        Column("outcome_date", "DATE", "走访日期 of that visit"),
        Column(
            "revisit_on",
            "DATE",
            "the outcome's review date (visits settings): from it, or when the category or a reason is new, "
            "the person is back on the street's 走访 sheet",
        ),
    ),
    csv="proactive",
    csv_order="category, person_id",
)
OUT_REMOVALS = Table(
    "out_removals",
    "out",
    "registration × roll",
    "应退出名单: registrations to take off the unemployment roll or the 就业困难人员 roll, with reasons.",
    (
        _person(),
        Column("name", "VARCHAR", "reference name"),
        Column("roll", "VARCHAR", "unemployment or employment_difficulty", False, codes="roll"),
        Column("reasons", "VARCHAR", _REASONS, False, codes="removal_reason", separator=";"),
        Column(
            "confidence",
            "VARCHAR",
            "high when any reason is of high confidence, else review",
            False,
            codes="confidence",
        ),
        _record("the registration: <folder>/<file>[#<sheet>]:<row>"),
        Column("evidence", "VARCHAR", _LIST_EVIDENCE, False),
        *LOCATION,
    ),
    csv="removals",
    csv_order="roll, confidence, person_id, source_record",
)


def _member_ids() -> Column:
    return Column("member_ids", "VARCHAR", _MEMBER_IDS, False, separator=";", pattern=PERSON_ID_PATTERN)


# Where a household lives and who its members are, for the street offices (SPEC section 5).
HOUSEHOLD_PLACE: tuple[Column, ...] = (
    Column("district", "VARCHAR", f"区县: {_HOUSEHOLD_PLACE}"),
    Column("street", "VARCHAR", f"街道: {_HOUSEHOLD_PLACE}"),
    Column("member_names", "VARCHAR", _MEMBER_NAMES),
    Column("member_relations", "VARCHAR", _MEMBER_RELATIONS),
)
OUT_ZERO_EMPLOYMENT_HOUSEHOLDS = Table(
    "out_zero_employment_households",
    "out",
    "household",
    "零就业家庭: active urban 低保 households with a working-age member and nobody working.",
    (
        Column("household_id", "VARCHAR", "户编号", False),
        Column("status", "VARCHAR", "CONFIRMED or POTENTIAL", False, codes="household_status"),
        Column(
            "working_age_members",
            "BIGINT",
            "members counted: working age, able to work, not at school",
            False,
        ),
        Column("registered_unemployed_members", "BIGINT", "working-age members registered unemployed", False),
        _member_ids(),
        Column("evidence", "VARCHAR", "the household's 低保 type, counted and not counted members", False),
        *HOUSEHOLD_PLACE,
    ),
    csv="zero_employment_households",
    csv_order="status, household_id",
)

OUT_ENTITLEMENTS = Table(
    "out_entitlements",
    "out",
    "person × entitlement (× employer for SI_SUBSIDY_EMPLOYER)",
    "应享尽享: the 社保补贴 of a recognized 就业困难人员 (灵活就业, 单位吸纳) and the 临时生活补贴 the data "
    "already proves, to be paid without an application (直补快办).",
    (
        _person(),
        Column("name", "VARCHAR", "reference name"),
        Column(
            "entitlement",
            "VARCHAR",
            "SI_SUBSIDY_FLEXIBLE, SI_SUBSIDY_EMPLOYER or TEMP_LIVING_ALLOWANCE",
            False,
            codes="entitlement",
        ),
        Column(
            "employer_id", "VARCHAR", "单位编号 of the hiring employer (SI_SUBSIDY_EMPLOYER); empty otherwise"
        ),
        Column(
            "employer_name",
            "VARCHAR",
            "单位名称, its latest in the contributions (SI_SUBSIDY_EMPLOYER); empty otherwise",
        ),
        Column(
            "subsidy_until",
            "DATE",
            "last day of the subsidy period (the two subsidies); empty for the allowance or without 认定日期",
        ),
        Column(
            "confidence",
            "VARCHAR",
            "high, or review when the 认定日期 is empty (the period cannot be shown) or, for the allowance, a 低保 "
            "record says 完全丧失劳动能力 or 在校学生 (the evidence names the conflict)",
            False,
            codes="confidence",
        ),
        Column(
            "evidence",
            "VARCHAR",
            "认定日期 and its registration, the period, the contribution months and employer, the 低保 household, "
            "joined by ' | '; then LOCATION: where the contact came from",
            False,
        ),
        *LOCATION,
        # What the employers' view (直补快办) shows in columns; the CSV's evidence says it too.
        Column("recognized_on", "DATE", "认定日期 (the two subsidies)", published=False),
        Column(
            "employed_from",
            "DATE",
            "the employer's first paid 单位职工 month (SI_SUBSIDY_EMPLOYER)",
            published=False,
        ),
        Column(
            "paid_months",
            "VARCHAR",
            "the employer's paid months in the look-back, YYYY-MM joined by , (SI_SUBSIDY_EMPLOYER)",
            published=False,
        ),
    ),
    csv="entitlements",
    csv_order="entitlement, person_id, employer_id, employer_name",
)

# For the partner departments (SPEC section 4 item 5, 部门联动) and the early warning (item 6).
OUT_DIBAO_EMPLOYMENT = Table(
    "out_dibao_employment",
    "out",
    "person",
    "低保家庭成员就业状况比对 (for 民政): active 低保/低保边缘 members employed or flexibly employed at D whose "
    "低保 record does not say 在业 — to update the record, deduct work costs and apply 低保渐退, not to cut anyone off.",
    (
        _person(),
        Column("name", "VARCHAR", "reference name"),
        Column("household_id", "VARCHAR", "户编号 of the member's active 低保 record (the latest to start)"),
        Column(
            "dibao_type",
            "VARCHAR",
            "保障类型 of that record: 城市低保, 农村低保, 城市低保边缘 or 农村低保边缘",
        ),
        Column(
            "recorded_status",
            "VARCHAR",
            "就业状况 as that record says it (失业, 在校学生, 退休, 其他; empty when blank)",
        ),
        Column("finding", "VARCHAR", "EMPLOYED or FLEXIBLY_EMPLOYED", False, codes="dibao_finding"),
        Column(
            "employer_id",
            "VARCHAR",
            "单位编号 of the employer of the latest paid 单位职工 month in the look-back (the smallest on a tie); "
            "empty for FLEXIBLY_EMPLOYED",
        ),
        Column("employer_name", "VARCHAR", "单位名称 of that employer, as that month's row says it"),
        Column(
            "evidence",
            "VARCHAR",
            "the contribution months and employers, the 低保 record, a removal of the same person for work, "
            "joined by ' | '; then LOCATION: where the contact came from",
            False,
        ),
        *LOCATION,
        # What 民政's workbook shows in columns; the CSV's evidence says it too.
        Column("relation", "VARCHAR", "与户主关系 of the 低保 record", published=False),
        Column(
            "paid_months",
            "VARCHAR",
            "the finding's paid months in the look-back, as people read them",
            published=False,
        ),
        Column(
            "on_removal_list",
            "BOOLEAN",
            "registered unemployed, the registration on the removal list for the same work",
            False,
            published=False,
        ),
    ),
    csv="dibao_employment",
    csv_order="finding, person_id",
)
OUT_DISABILITY_EMPLOYMENT = Table(
    "out_disability_employment",
    "out",
    "person",
    "持证残疾人就业状况 (for 残联): every living working-age holder of a valid disability card with the first "
    "employment status that applies at D — the 残联's 就业需求摸排 list and its employment counts.",
    (
        _person(),
        Column("name", "VARCHAR", "reference name"),
        Column(
            "disability_category",
            "VARCHAR",
            "残疾类别 of the valid card (the latest issued): 视力 听力 言语 肢体 智力 精神 多重",
        ),
        Column(
            "disability_grade",
            "INTEGER",
            "残疾等级 of that card, 1..4 (一级..四级); empty when the card does not say",
        ),
        Column(
            "status",
            "VARCHAR",
            "the first that applies of EMPLOYED, FLEXIBLY_EMPLOYED, REGISTERED_UNEMPLOYED, RETIRED, NOT_WORKING",
            False,
            codes="disability_status",
        ),
        Column(
            "evidence",
            "VARCHAR",
            "the card, then what the status rests on (contributions, registration, pension), joined by ' | '; "
            "then LOCATION: where the contact came from",
            False,
        ),
        *LOCATION,
        # What 残联's workbook shows in columns; the CSV's evidence says it too.
        Column("sex", "VARCHAR", "from the ID", published=False),
        Column("age", "BIGINT", "in whole years at D", published=False),
        Column(
            "employer_name",
            "VARCHAR",
            "单位名称 of the employer of the latest paid 单位职工 month (EMPLOYED)",
            published=False,
        ),
        Column(
            "summary",
            "VARCHAR",
            "一句话说明: the months, the registration or the pension behind the status",
            False,
            published=False,
        ),
    ),
    csv="disability_employment",
    csv_order="status, person_id",
)
OUT_HOUSEHOLDS_AT_RISK = Table(
    "out_households_at_risk",
    "out",
    "household",
    "零就业家庭预警: active urban 低保 households where exactly one counted member works and that work is "
    "fragile (only 灵活就业, or 单位职工 contributions that stopped before the last look-back month).",
    (
        Column("household_id", "VARCHAR", "户编号", False),
        Column("risk", "VARCHAR", "FLEXIBLE_ONLY or CONTRIBUTIONS_STOPPED", False, codes="household_risk"),
        _person("working_member_id", "the one counted member who works"),
        Column("working_member_name", "VARCHAR", "that member's reference name"),
        _member_ids(),
        Column(
            "evidence",
            "VARCHAR",
            "the household's 低保 type, the working member's contributions, the other members, a removal of "
            "the working member, where the district and street came from, joined by '；'",
            False,
        ),
        *HOUSEHOLD_PLACE,
        # One short line for the street offices' printed work list; the evidence says it in full.
        Column(
            "summary", "VARCHAR", "一句话说明: who works, how, since when it stopped", False, published=False
        ),
    ),
    csv="households_at_risk",
    csv_order="risk, household_id",
)

QUARANTINE = Table(
    "quarantine",
    "quality",
    "row-level failure (a row failing two rules has two)",
    "Every row that failed a row rule, rejected or kept with its defect flagged: for the stewards. "
    "One table per source in the run database (quarantine_<source>), one file published.",
    (
        _source(),
        _record(),
        Column(
            "rule",
            "VARCHAR",
            "the rule failed; <column> is the column's key in sources/column_maps.yaml",
            False,
            codes="quarantine_rule",
        ),
        Column(
            "value",
            "VARCHAR",
            "the value as read (for duplicate_row: the first copy; cell_too_long: its length)",
        ),
        Column("message", "VARCHAR", "what is wrong and what to do, in Chinese and English", False),
        Column(
            "action",
            "VARCHAR",
            "rejected (not staged) or kept (staged, defect flagged)",
            False,
            codes="quarantine_action",
        ),
        Column("source_file", "VARCHAR", "file path relative to the input root", False),
        # What the department's feedback sheet (publish/feedback.py) shows; not in the CSV.
        Column("source_sheet", "VARCHAR", "sheet name (xlsx, xls), NULL for CSV", published=False),
        Column(
            "source_row", "INTEGER", "row number as a spreadsheet or editor shows it", False, published=False
        ),
        Column("field", "VARCHAR", "字段: the column the department knows", False, published=False),
        Column("problem", "VARCHAR", "问题: the rule's Chinese name", False, published=False),
        Column(
            "fix", "VARCHAR", "修改方法: what the department changes at the source", False, published=False
        ),
    ),
    csv="quarantine",
    csv_order=f"source, source_file, {SOURCE_ROW_SQL}, source_record, rule",
)
INGEST_FILES = Table(
    "ingest_files",
    "quality",
    "entry of a source folder",
    "The file log: every entry of each source folder — read, ignored or refused, and why — with its sha256 "
    "and row counts (manifest.json `inputs`).",
    (
        _source(),
        Column("file", "VARCHAR", "path relative to the input root", False),
        Column("sha256", "VARCHAR", "of the file's bytes"),
        Column("size_bytes", "BIGINT", "the file's size"),
        Column("encoding", "VARCHAR", "gb18030 | utf-8-sig | utf-8 | xlsx | xls; empty when not read"),
        Column("sheets", "VARCHAR[]", "the sheets read (workbooks)"),
        Column("rows_read", "BIGINT", "data rows put in the raw table"),
        Column("rows_skipped_blank", "BIGINT", "blank rows skipped"),
        Column("rows_skipped_footer", "BIGINT", "footer rows (合计, 制表人, …) skipped"),
        Column("unmapped_columns", "VARCHAR[]", "headers that map to no column, kept out of the table"),
        Column("status", "VARCHAR", "read | ignored | refused"),
        Column("reason", "VARCHAR", "why it was ignored or refused; for a file read, a note"),
    ),
    personal_data=False,
)
CHANGES = Table(
    "changes",
    "out",
    "entry that entered, left or changed a list since the previous run",
    "有进有出: who entered, left or changed on each list against the previous published run.",
    (
        Column("list", "VARCHAR", "the list", False, codes="list"),
        Column("change", "VARCHAR", "entered, left or changed", False, codes="change"),
        Column(
            "key",
            "VARCHAR",
            "what makes an entry the same from night to night, never a row number: person_id|category, "
            "person_id|roll (a person's registrations on a roll are one entry), household_id, "
            "person_id|entitlement|employer (employer_id, else employer_name; empty but for SI_SUBSIDY_EMPLOYER); "
            "person_id (dibao_employment, disability_employment), household_id (households_at_risk)",
            False,
        ),
        _person(description="the person (empty for a household)", nullable=True),
        Column(
            "detail",
            "VARCHAR",
            "reasons (or status; for an entitlement its confidence and subsidy_until; dibao_employment its "
            "finding and employer, households_at_risk its risk and working member) now, a person's "
            "registrations' together; empty when it left",
        ),
        Column(
            "previous_detail", "VARCHAR", "reasons (or status) on the previous run; empty when it entered"
        ),
        Column("previous_as_of", "VARCHAR", "the previous run's as-of date; empty on the first run"),
    ),
    csv="changes",
)

DECISIONS_APPLIED = Table(
    "decisions_applied",
    "quality",
    "decided row of the decision files",
    "What every decision by people did tonight (SPEC section 6): applied, orphaned, expired, quarantined …",
    (
        Column("decision_file", "VARCHAR", "the decision file, relative to the decisions folder", False),
        Column("decision_row", "INTEGER", "its row as a spreadsheet or editor shows it", False),
        Column(
            "kind",
            "VARCHAR",
            "link (review form), keep (removal form, a street's 核实退出 sheet) or visit (a street's 走访 sheet)",
            False,
            codes="decision_kind",
        ),
        Column(
            "decision",
            "VARCHAR",
            "决定 (结果) as written: 确认/否决 (confirm/reject), 保留/退出 (keep/exit), a visit's outcome",
        ),
        Column("status", "VARCHAR", "what became of it tonight", False, codes="decision_status"),
        Column("records", "INTEGER", "records (or registrations) it matched tonight", False),
        _source(nullable=True),
        Column("record_key", "VARCHAR", "the record's content key, from the form"),
        _person("candidate_person_id", "the candidate a link decision is about", nullable=True),
        Column("roll", "VARCHAR", "the roll a keep is about", codes="roll"),
        Column("valid_until", "DATE", "有效期至 of a keep"),
        Column("decided_by", "VARCHAR", "经办人"),
        Column("reason", "VARCHAR", "理由"),
        Column(
            "proposed_method", "VARCHAR", "the method the linker gave the decided pair", codes="link_method"
        ),
        Column("rule", "VARCHAR", "the rule a quarantined row breaks", codes="decision_rule"),
        Column("message", "VARCHAR", "what is wrong, or why a keep or a visit's outcome ended"),
        _person(description="the person a visit is about (公民身份号码 of the 走访 sheet)", nullable=True),
        Column("visited_on", "DATE", "走访日期 of a visit"),
        Column("revisit_on", "DATE", "a visit's review date: the person is back on the 走访 sheet from it"),
    ),
    csv="decisions_applied",
    # a street's work list holds two forms (走访, 核实退出): their rows of one number told apart by kind, and
    # in the intake's reading order (decision_id, not published) past that
    csv_order="decision_file, decision_row, kind, decision_id",
)


# 数据质量反馈表 rows (publish/feedback.py): people's columns, named as the department reads them.
FEEDBACK_COLUMNS: tuple[Column, ...] = (
    Column("数据", "VARCHAR", "the extract: 登记失业, 低保, 残联, 社保参保, 社保缴费", False),
    Column("文件", "VARCHAR", "the file, relative to its source folder", False),
    Column("工作表", "VARCHAR", "the sheet (xlsx, xls); empty for CSV"),
    Column(
        "行号", "INTEGER", "the row as Excel or an editor shows it (title and header rows counted)", False
    ),
    Column("字段", "VARCHAR", "the column the problem concerns (整行: the whole row)", False),
    Column(
        "原值",
        "VARCHAR",
        "the value as read (a duplicate: the row it copies; cut past 200 characters; a street's 信息有误: the name)",
    ),
    Column("问题", "VARCHAR", "what is wrong: the rule's Chinese name (checks/row_rules.py)", False),
    Column("修改方法", "VARCHAR", "how to fix it at the source", False),
    Column(
        "本次处理",
        "VARCHAR",
        "已拒收 (not used tonight), 已采用 (used, the faulty field left out) or 已采用，待核实 (a street office "
        "found the record wrong on a visit, 问题 says what: used until the department corrects it)",
        False,
    ),
)
FEEDBACK_TABLES: dict[str, Table] = {
    d.name: Table(
        f"feedback_{d.name}",
        "quality",
        "problem row of the department's files",
        f"数据质量反馈表 of {d.label} ({', '.join(d.sources)}): every quarantine row of its files, then every "
        "record of them a street office found wrong on a visit (信息有误), in Chinese, "
        f"to send back (UTF-8 with a byte-order mark, as Excel opens it; feedback_{d.name}.xlsx shows the first "
        "publish.feedback_max_rows of them).",
        FEEDBACK_COLUMNS,
        csv=f"feedback_{d.name}",
    )
    for d in DEPARTMENTS
}


def raw_table(source: str, headers: dict[str, tuple[str, ...]]) -> Table:
    """`raw_<source>`: the record's place, then one text column per key of the source's column map
    (`headers`: key -> header aliases, `sources/column_maps.yaml`, which stewards extend)."""
    return Table(
        f"raw_{source}",
        "raw",
        "data row of a file",
        f"Every data row of every file in the `{source}/` folder, as text.",
        (
            *RECORD_PLACE,
            *(
                Column(key, "VARCHAR", f"as read under the header {'、'.join(aliases)}")
                for key, aliases in headers.items()
            ),
            Column(
                SURPLUS_COLUMN,
                "VARCHAR",
                "a CSV row with more fields than its header: the first field too many (row rule surplus_fields)",
            ),
        ),
    )


def staged_table(source: str) -> Table:
    return Table(
        f"staged_{source}",
        "staged",
        "source row",
        f"`{source}` normalized; failures in quarantine_{source}.",
        staged_columns(source),
    )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        *(staged_table(source) for source in SOURCES),
        CORE_PERSON_LINKS,
        CORE_REVIEW_QUEUE,
        CORE_PERSONS,
        CORE_PROFILE_PERSONS,
        LINKED_SI_CONTRIBUTIONS,
        FACTS_PERSON_RECORDS,
        FACTS_PERSON_WORK,
        FACTS_PERSON_EMPLOYERS,
        FACTS_PERSONS,
        FACTS_LOCATIONS,
        FACTS_HOUSEHOLDS,
        OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
        OUT_PROACTIVE,
        OUT_REMOVALS,
        OUT_ENTITLEMENTS,
        OUT_DIBAO_EMPLOYMENT,
        OUT_DISABILITY_EMPLOYMENT,
        OUT_HOUSEHOLDS_AT_RISK,
        QUARANTINE,
        INGEST_FILES,
        CHANGES,
        DECISIONS_APPLIED,
        *FEEDBACK_TABLES.values(),
    )
}
# The CSV files of OUTPUT/<as-of>/, in the order the contract lists them.
CSV_TABLES: tuple[Table, ...] = (
    OUT_PROACTIVE,
    OUT_REMOVALS,
    OUT_ZERO_EMPLOYMENT_HOUSEHOLDS,
    OUT_ENTITLEMENTS,
    OUT_DIBAO_EMPLOYMENT,
    OUT_DISABILITY_EMPLOYMENT,
    OUT_HOUSEHOLDS_AT_RISK,
    CORE_PERSON_LINKS,
    CORE_REVIEW_QUEUE,
    QUARANTINE,
    CHANGES,
    DECISIONS_APPLIED,
    *FEEDBACK_TABLES.values(),
)
