"""A hand-built world holding every code of SPEC section 4, run once end to end through `aidmatch run`.

Each person below is crafted for one code or one near miss, and the expected lists are written as
data, worked out by hand from the SPEC text (not copied from an output). The as-of date D is
2026-06-15, so the look-back months of "employed at D" are 2026-03, 2026-04 and 2026-05 (D-3 .. D-1)
and a woman of the 55 base born 1971-02-15 reaches her statutory retirement date on D itself
(k = 14, delay ceil(14/4) = 4 months: 55·12 + 4 months after 1971-02-15 is 2026-06-15).

The same run carries one row per quarantine rule of `checks/row_rules.py` that has no other test, each
beside a near miss that must not trigger it (in `si_persons/西城区.csv` and `si_contributions/西城区.csv`,
for people who appear in no list, so they cannot disturb the lists).
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import HEADERS, Person, citizen_id, read_csv, read_manifest, run_aidmatch, write_csv_file

D = dt.date(2026, 6, 15)
ON = "2026-01-10"  # a registration date under 12 months before D: no LONG_TERM_UNEMPLOYED


class HandWorld:
    """Rows per input file, in the order written; `add` returns the row's `source_record`."""

    def __init__(self) -> None:
        self.files: dict[str, list[dict[str, str]]] = {}
        self._sequence = 0

    def person(self, name: str, sex: str, birth: dt.date, region: str = "110101") -> Person:
        self._sequence += 1
        sequence = 2 * self._sequence + (1 if sex == "男" else 0)  # odd sequence = male (GB 11643)
        return Person(citizen_id(region, birth, sequence), name, sex, birth)

    def add(self, file: str, row: dict[str, str]) -> str:
        rows = self.files.setdefault(file, [])
        rows.append(row)
        return f"{file}:{len(rows) + 1}"  # row 1 is the header

    def write(self, root: Path) -> Path:
        for file, rows in self.files.items():
            header = HEADERS[file.split("/")[0]]
            unknown = {key for row in rows for key in row} - set(header)
            assert not unknown, f"{file}: columns {unknown} are not reference headers"
            write_csv_file(root / file, header, [[row.get(h, "") for h in header] for row in rows])
        return root


W = HandWorld()
UNEMPLOYMENT, DIBAO, DISABILITY = "unemployment/东城区.csv", "dibao/东城区.csv", "disability/东城区.csv"
SI_PERSONS, SI_CONTRIBUTIONS = "si_persons/东城区.csv", "si_contributions/东城区.csv"


def register(p: Person, on: str = ON, difficult: str = "", **extra: str) -> str:
    """登记失业: one registration; `difficult` lists 就业困难人员类别 (就业困难人员 = 是) when given."""
    row = {
        "姓名": p.name, "公民身份号码": p.id, "性别": p.sex, "出生日期": p.birth.isoformat(), "民族": "汉族",
        "户籍性质": "城镇", "联系电话": "13800000000", "居住地址": "北京市东城区某街1号", "所属街道": "东华门街道",
        "所属社区": "多福巷社区", "失业登记日期": on, "就业困难人员": "是" if difficult else "否",
        "就业困难人员类别": difficult, "认定日期": ON if difficult else "",
    }  # fmt: skip
    return W.add(UNEMPLOYMENT, row | extra)


def dibao(
    household: str,
    kind: str,
    head: Person,
    p: Person,
    capacity: str = "有劳动能力",
    employment: str = "失业",
    status: str = "在保",
) -> str:
    """低保: one household member's row."""
    row = {
        "户编号": household, "保障类型": kind, "户主姓名": head.name, "户主身份证号": head.id,
        "成员姓名": p.name, "成员身份证号": p.id, "与户主关系": "本人" if p is head else "家庭成员",
        "性别": p.sex, "出生日期": p.birth.isoformat(), "劳动能力": capacity, "就业状况": employment,
        "保障状态": status, "保障起始日期": "2024-01-01", "停保日期": "2026-03-01" if status == "停保" else "",
        "月保障金额": "1200", "所属区县": "东城区", "所属街道": "东华门街道",
    }  # fmt: skip
    return W.add(DIBAO, row)


def card(p: Person, grade: int, valid_until: str, id_column: bool = True) -> str:
    """残疾人证: the number is the ID + category digit (4 = 肢体) + grade digit; 身份证号 often blank."""
    row = {
        "姓名": p.name, "残疾人证号": f"{p.id}4{grade}", "身份证号": p.id if id_column else "", "性别": p.sex,
        "残疾类别": "肢体", "残疾等级": "一二三四"[grade - 1] + "级", "发证日期": "2020-01-01",
        "有效期至": valid_until, "证件状态": "有效", "户籍地址": "北京市东城区某街2号",
    }  # fmt: skip
    return W.add(DISABILITY, row)


def si_person(p: Person, status: str = "参保缴费", file: str = SI_PERSONS, **extra: str) -> str:
    row = {
        "社会保障号码": p.id, "姓名": p.name, "性别": p.sex, "出生日期": p.birth.isoformat(),
        "个人状态": status, "离退休日期": "2020-03-01" if status == "离退休" else "",
        "死亡日期": "2026-04-01" if status == "死亡" else "", "参保地": "东城区",
    }  # fmt: skip
    return W.add(file, row | extra)


def contribution(
    p: Person, month: str, kind: str = "单位职工", file: str = SI_CONTRIBUTIONS, **extra: str
) -> str:
    resident = kind == "城乡居民"
    row = {
        "社会保障号码": p.id, "姓名": p.name, "单位编号": "" if resident else "U0001",
        "单位名称": "" if resident else "长安机械有限责任公司", "缴费类型": kind,
        "险种": "城乡居民基本养老保险" if resident else "企业职工基本养老保险", "费款所属期": month,
        "缴费基数": "6000", "缴费状态": "已实缴",
    }  # fmt: skip
    return W.add(file, row | extra)


# --- the people --------------------------------------------------------------------------------
# Men born 1990-1992 are 34-36 on D (no AGE_4050); everyone is of working age unless said otherwise.

# RECOGNIZE, one person per reason
R_DIBAO = W.person("赵一鸣", "男", dt.date(1990, 1, 11))
register(R_DIBAO)
dibao("11010100000004", "农村低保", R_DIBAO, R_DIBAO)  # rural: no zero-employment household
contribution(R_DIBAO, "202605", kind="城乡居民")  # near miss: 城乡居民 says nothing about employment

R_DISABLED = W.person("钱二平", "男", dt.date(1990, 2, 12))
register(R_DISABLED)
card(R_DISABLED, grade=1, valid_until="2030-12-31")  # any grade counts for RECOGNIZE
R_DISABLED_WRONG_ID = R_DISABLED.id[:17] + ("0" if R_DISABLED.id[17] != "0" else "1")  # wrong check character
R_DISABLED_SI = si_person(R_DISABLED, 社会保障号码=R_DISABLED_WRONG_ID)

R_AGE = W.person("孙三娘", "女", dt.date(1986, 6, 15))  # 40 on D
register(R_AGE)

R_LONG = W.person("李四海", "男", dt.date(1990, 4, 14))
register(R_LONG, on="2025-06-15")  # registered exactly 12 months before D
NEAR_LONG = W.person("周五洲", "男", dt.date(1990, 5, 15))
register(NEAR_LONG, on="2025-06-16")  # near miss: a day short of 12 months

# household 1: 城市低保, 在保 — CONFIRMED (a registered working-age member; the others are not counted)
R_ZERO = W.person("吴六合", "男", dt.date(1990, 6, 16))
register(R_ZERO)
STUDENT = W.person("郑七星", "男", dt.date(2008, 3, 1))  # 18: working age, but 在校学生
NO_CAPACITY_MEMBER = W.person("王八妹", "女", dt.date(1992, 8, 18))
dibao("11010100000001", "城市低保", R_ZERO, R_ZERO)
dibao("11010100000001", "城市低保", R_ZERO, STUDENT, employment="在校学生")
dibao(
    "11010100000001", "城市低保", R_ZERO, NO_CAPACITY_MEMBER, capacity="完全丧失劳动能力", employment="其他"
)

# household 2: 城市低保边缘, 在保 — POTENTIAL (nobody registered); its working-age member is OUTREACH
O_DIBAO = W.person("冯九龄", "男", dt.date(1990, 9, 19))
ELDER = W.person("陈十全", "男", dt.date(1956, 10, 20))  # 69: past retirement, not counted
dibao("11010100000002", "城市低保边缘", O_DIBAO, O_DIBAO)
dibao("11010100000002", "城市低保边缘", O_DIBAO, ELDER, capacity="部分丧失劳动能力", employment="退休")
contribution(O_DIBAO, "202604", kind="城乡居民")  # near miss: still not working

# household 3: 城市低保, 停保 — near miss: no household row, no OUTREACH; its 就业困难人员's basis is gone
STOPPED = W.person("褚十一", "男", dt.date(1990, 11, 21))
BASIS_DIBAO = W.person("卫十二", "男", dt.date(1990, 12, 22))
dibao("11010100000003", "城市低保", STOPPED, STOPPED, status="停保")
dibao("11010100000003", "城市低保", STOPPED, BASIS_DIBAO, status="停保")
BASIS_DIBAO_REG = register(BASIS_DIBAO, difficult="低保")

# household 8: 城市低保, 在保, one member employed — near miss: not a zero-employment household
WORKER = W.person("金廿九", "男", dt.date(1992, 2, 6))
O_DIBAO_2 = W.person("魏三十", "女", dt.date(1992, 3, 7))
dibao("11010100000008", "城市低保", WORKER, WORKER)
dibao("11010100000008", "城市低保", WORKER, O_DIBAO_2)
contribution(WORKER, "202605")

# OUTREACH DISABLED: grade 三级, the ID only in the card number; near miss: a card expired the day before D
O_DISABLED = W.person("蒋十三", "男", dt.date(1991, 1, 23))
card(O_DISABLED, grade=3, valid_until="2030-12-31", id_column=False)
EXPIRED = W.person("沈十四", "男", dt.date(1991, 2, 24))
card(EXPIRED, grade=4, valid_until="2026-06-14")

# the look-back window: 单位职工 contributions in D-1, D-3 (employed), D-4 and D's own month (not)
EMPLOYED_D1 = W.person("韩十五", "男", dt.date(1991, 3, 25))
EMPLOYED_D1_REG = register(EMPLOYED_D1)
dibao("11010100000005", "农村低保", EMPLOYED_D1, EMPLOYED_D1)  # DIBAO, but employed: no RECOGNIZE
contribution(EMPLOYED_D1, "202605")
EMPLOYED_D3 = W.person("杨十六", "男", dt.date(1991, 4, 26))
EMPLOYED_D3_REG = register(EMPLOYED_D3)
contribution(EMPLOYED_D3, "202603")
PAID_D4 = W.person("朱十七", "男", dt.date(1991, 5, 27))
register(PAID_D4)
dibao("11010100000006", "农村低保", PAID_D4, PAID_D4)
contribution(PAID_D4, "202602")
PAID_THIS_MONTH = W.person("秦十八", "男", dt.date(1991, 6, 28))
register(PAID_THIS_MONTH)
contribution(PAID_THIS_MONTH, "202606")

# removals
FLEXIBLE = W.person("尤十九", "男", dt.date(1991, 7, 29))
FLEXIBLE_REG = register(FLEXIBLE, on="2025-01-01")
contribution(FLEXIBLE, "202604", kind="灵活就业")

RETIRED = W.person("许二十", "男", dt.date(1960, 3, 1))  # retired 2020-03-01 (60, born before 1965)
RETIRED_REG = register(RETIRED)
si_person(RETIRED, "离退休")

WOMAN_ON_DATE = W.person("何廿一", "女", dt.date(1971, 2, 15))  # retirement date = D
WOMAN_ON_DATE_REG = register(WOMAN_ON_DATE)
si_person(WOMAN_ON_DATE)
WOMAN_DAY_BEFORE = W.person("吕廿二", "女", dt.date(1971, 2, 16))  # retirement date = D + 1: 55, working age
register(WOMAN_DAY_BEFORE)
si_person(WOMAN_DAY_BEFORE)

DECEASED = W.person("施廿三", "男", dt.date(1991, 8, 30))
DECEASED_REG = register(DECEASED)
si_person(DECEASED, "死亡")

TWICE = W.person("张廿四", "男", dt.date(1991, 9, 1))
# registered twice: the row first in the file is the later registration
TWICE_LATER_REG = register(TWICE, on="2026-03-01", 所属社区="新鲜胡同社区")
TWICE_EARLIER_REG = register(TWICE, on="2025-12-01")
COPIED = W.person("孔廿五", "男", dt.date(1991, 10, 2))
COPIED_FIRST_REG = register(COPIED)
COPIED_COPY_REG = register(COPIED)  # an exact copy of the row

NO_CAPACITY = W.person("曹廿六", "男", dt.date(1991, 11, 3))
NO_CAPACITY_REG = register(NO_CAPACITY)
dibao("11010100000007", "农村低保", NO_CAPACITY, NO_CAPACITY, capacity="完全丧失劳动能力", employment="其他")

MIXED = W.person("邹廿七", "男", dt.date(1992, 4, 8))  # a high and a review reason: the row is high
MIXED_REG = register(MIXED)
contribution(MIXED, "202604")
dibao("11010100000009", "农村低保", MIXED, MIXED, capacity="完全丧失劳动能力", employment="其他")

BASIS_HOLDS = W.person("严廿八", "男", dt.date(1991, 12, 4))  # near miss: the card is valid on D itself
register(BASIS_HOLDS, difficult="残疾")
card(BASIS_HOLDS, grade=2, valid_until=D.isoformat())
BASIS_CARD = W.person("华廿九", "男", dt.date(1992, 1, 5))
BASIS_CARD_REG = register(BASIS_CARD, difficult="残疾")
card(BASIS_CARD, grade=3, valid_until="2026-06-14")  # expired the day before D

# For the partner departments and the early warning (SPEC section 4 items 5 and 6): people in no other list.
# Besides them, EMPLOYED_D1, WORKER and MIXED are 低保 members employed whose record does not say 在业, and
# R_DISABLED, O_DISABLED and BASIS_HOLDS card holders of working age.
F_DIBAO = W.person(
    "田卅一", "男", dt.date(1993, 1, 9)
)  # a rural 低保 member, 灵活就业: 民政's FLEXIBLY_EMPLOYED
dibao("11010100000010", "农村低保", F_DIBAO, F_DIBAO)
contribution(F_DIBAO, "202605", kind="灵活就业")
C_EMPLOYED = W.person("卢卅二", "男", dt.date(1993, 2, 10))
card(C_EMPLOYED, grade=2, valid_until="2030-12-31")
contribution(C_EMPLOYED, "202604")
C_FLEXIBLE = W.person("程卅三", "男", dt.date(1993, 3, 11))
card(C_FLEXIBLE, grade=1, valid_until="2030-12-31")
contribution(C_FLEXIBLE, "202605", kind="灵活就业")
C_RETIRED = W.person("方卅四", "男", dt.date(1975, 4, 12))  # 51, retired early on disability grounds
card(C_RETIRED, grade=1, valid_until="2030-12-31")
si_person(C_RETIRED, "离退休")
C_DEAD = W.person("石卅五", "男", dt.date(1993, 5, 13))  # near miss: 残联 not told yet, si_persons says 死亡
card(C_DEAD, grade=3, valid_until="2030-12-31")
si_person(C_DEAD, "死亡")

# households one job away from zero: the one worker and a member who cannot work (not counted)
STOP_WORKER = W.person("邱卅六", "男", dt.date(1993, 6, 14))  # 单位职工 in D-3 only: CONTRIBUTIONS_STOPPED
NO_CAPACITY_11 = W.person("潘卅七", "女", dt.date(1993, 7, 15))
dibao("11010100000011", "城市低保", STOP_WORKER, STOP_WORKER)
dibao(
    "11010100000011", "城市低保", STOP_WORKER, NO_CAPACITY_11, capacity="完全丧失劳动能力", employment="其他"
)
contribution(STOP_WORKER, "202603")
FLEX_WORKER = W.person("薛卅八", "男", dt.date(1993, 8, 16))  # only 灵活就业: FLEXIBLE_ONLY
NO_CAPACITY_12 = W.person("雷卅九", "男", dt.date(1993, 9, 17))
dibao("11010100000012", "城市低保边缘", FLEX_WORKER, FLEX_WORKER)
dibao(
    "11010100000012",
    "城市低保边缘",
    FLEX_WORKER,
    NO_CAPACITY_12,
    capacity="完全丧失劳动能力",
    employment="其他",
)
contribution(FLEX_WORKER, "202605", kind="灵活就业")
FLEX_A = W.person("贺四十", "男", dt.date(1993, 10, 18))  # near miss: two members work
FLEX_B = W.person("倪四一", "男", dt.date(1993, 11, 19))
dibao("11010100000013", "城市低保", FLEX_A, FLEX_A)
dibao("11010100000013", "城市低保", FLEX_A, FLEX_B)
contribution(FLEX_A, "202605", kind="灵活就业")
contribution(FLEX_B, "202605", kind="灵活就业")
ARREARS_WORKER = W.person("汤四二", "男", dt.date(1993, 12, 20))  # D-1 in arrears: not a paid month
NO_CAPACITY_14 = W.person("滕四三", "女", dt.date(1994, 1, 21))
dibao("11010100000014", "城市低保", ARREARS_WORKER, ARREARS_WORKER)
dibao(
    "11010100000014",
    "城市低保",
    ARREARS_WORKER,
    NO_CAPACITY_14,
    capacity="完全丧失劳动能力",
    employment="其他",
)
contribution(ARREARS_WORKER, "202604")
contribution(ARREARS_WORKER, "202605", 缴费状态="欠费")


# --- the expected lists, worked out by hand from SPEC section 4 --------------------------------
#     person, category, reasons, sources, match_confidence
EXPECTED_PROACTIVE = [
    (R_DIBAO, "RECOGNIZE", "DIBAO", "dibao;si_contributions;unemployment", "exact"),
    # its social-insurance row carries a wrong check character: linked fuzzily
    (R_DISABLED, "RECOGNIZE", "DISABLED", "disability;si_persons;unemployment", "fuzzy"),
    (R_AGE, "RECOGNIZE", "AGE_4050", "unemployment", "exact"),
    (R_LONG, "RECOGNIZE", "LONG_TERM_UNEMPLOYED", "unemployment", "exact"),
    (R_ZERO, "RECOGNIZE", "DIBAO;ZERO_EMPLOYMENT_HOUSEHOLD", "dibao;unemployment", "exact"),
    (PAID_D4, "RECOGNIZE", "DIBAO", "dibao;si_contributions;unemployment", "exact"),
    # 灵活就业 is not "employed": RECOGNIZE still applies (and the removal list says FLEXIBLY_EMPLOYED)
    (FLEXIBLE, "RECOGNIZE", "LONG_TERM_UNEMPLOYED", "si_contributions;unemployment", "exact"),
    (WOMAN_DAY_BEFORE, "RECOGNIZE", "AGE_4050", "si_persons;unemployment", "exact"),
    # RECOGNIZE's DIBAO asks for an active 低保 member only; work capacity is the removal list's concern
    (NO_CAPACITY, "RECOGNIZE", "DIBAO", "dibao;unemployment", "exact"),
    (O_DIBAO, "OUTREACH", "DIBAO", "dibao;si_contributions", "exact"),
    (O_DIBAO_2, "OUTREACH", "DIBAO", "dibao", "exact"),
    (O_DISABLED, "OUTREACH", "DISABLED", "disability", "exact"),
]
#     person, roll, reasons, confidence, registration
EXPECTED_REMOVALS = [
    (EMPLOYED_D1, "unemployment", "EMPLOYED", "high", EMPLOYED_D1_REG),
    (EMPLOYED_D3, "unemployment", "EMPLOYED", "high", EMPLOYED_D3_REG),
    (FLEXIBLE, "unemployment", "FLEXIBLY_EMPLOYED", "review", FLEXIBLE_REG),
    (RETIRED, "unemployment", "RETIRED", "high", RETIRED_REG),
    (WOMAN_ON_DATE, "unemployment", "RETIREMENT_AGE", "review", WOMAN_ON_DATE_REG),
    (DECEASED, "unemployment", "DECEASED", "high", DECEASED_REG),
    (TWICE, "unemployment", "DUPLICATE", "high", TWICE_LATER_REG),
    (COPIED, "unemployment", "DUPLICATE", "high", COPIED_COPY_REG),
    (NO_CAPACITY, "unemployment", "NO_WORK_CAPACITY", "review", NO_CAPACITY_REG),
    (MIXED, "unemployment", "EMPLOYED;NO_WORK_CAPACITY", "high", MIXED_REG),
    (BASIS_DIBAO, "employment_difficulty", "BASIS_ENDED", "review", BASIS_DIBAO_REG),
    (BASIS_CARD, "employment_difficulty", "BASIS_ENDED", "review", BASIS_CARD_REG),
]
#     person, finding, employer, recorded 就业状况, household, 低保 type
EMPLOYER = ("U0001", "长安机械有限责任公司")
EXPECTED_DIBAO_EMPLOYMENT = [
    (EMPLOYED_D1, "EMPLOYED", EMPLOYER, "失业", "11010100000005", "农村低保"),
    (WORKER, "EMPLOYED", EMPLOYER, "失业", "11010100000008", "城市低保"),
    (MIXED, "EMPLOYED", EMPLOYER, "其他", "11010100000009", "农村低保"),
    (F_DIBAO, "FLEXIBLY_EMPLOYED", ("", ""), "失业", "11010100000010", "农村低保"),
    (STOP_WORKER, "EMPLOYED", EMPLOYER, "失业", "11010100000011", "城市低保"),
    (FLEX_WORKER, "FLEXIBLY_EMPLOYED", ("", ""), "失业", "11010100000012", "城市低保边缘"),
    (FLEX_A, "FLEXIBLY_EMPLOYED", ("", ""), "失业", "11010100000013", "城市低保"),
    (FLEX_B, "FLEXIBLY_EMPLOYED", ("", ""), "失业", "11010100000013", "城市低保"),
    (ARREARS_WORKER, "EMPLOYED", EMPLOYER, "失业", "11010100000014", "城市低保"),
]
#     person, status, grade (every card here is 肢体)
EXPECTED_DISABILITY_EMPLOYMENT = [
    (R_DISABLED, "REGISTERED_UNEMPLOYED", 1),
    (O_DISABLED, "NOT_WORKING", 3),
    (BASIS_HOLDS, "REGISTERED_UNEMPLOYED", 2),  # valid on D itself
    (C_EMPLOYED, "EMPLOYED", 2),
    (C_FLEXIBLE, "FLEXIBLY_EMPLOYED", 1),
    (C_RETIRED, "RETIRED", 1),
]
#     household, risk, working member
EXPECTED_HOUSEHOLDS_AT_RISK = [
    ("11010100000011", "CONTRIBUTIONS_STOPPED", STOP_WORKER),
    ("11010100000012", "FLEXIBLE_ONLY", FLEX_WORKER),
    ("11010100000014", "CONTRIBUTIONS_STOPPED", ARREARS_WORKER),
]
#     household, status, working-age members counted, registered working-age members, members
EXPECTED_HOUSEHOLDS = [
    ("11010100000001", "CONFIRMED", 1, 1, [R_ZERO, STUDENT, NO_CAPACITY_MEMBER]),
    ("11010100000002", "POTENTIAL", 1, 0, [O_DIBAO, ELDER]),
]

# --- quarantine: one trigger and one near miss per rule (people in no list) ---------------------
Q_PERSONS, Q_CONTRIBUTIONS = "si_persons/西城区.csv", "si_contributions/西城区.csv"


@dataclass(frozen=True)
class QuarantineCase:
    rule: str
    trigger: str  # source_record of the row that must trigger the rule
    value: str  # the value the steward is shown ("" for none)
    near_miss: str  # source_record of a row like it that must not
    action: str = "kept"
    near_miss_rules: set[str] = field(default_factory=set)  # what the near miss triggers instead


def _q(name: str, sex: str, birth: dt.date, raw_id: str, **extra: str) -> str:
    row = {
        "社会保障号码": raw_id,
        "姓名": name,
        "性别": sex,
        "出生日期": birth.isoformat(),
        "个人状态": "参保缴费",
    }
    return W.add(Q_PERSONS, row | {"参保地": "西城区"} | extra)


def _id(region: str, birth: str, sequence: int) -> str:
    return citizen_id(region, dt.date.fromisoformat(birth), sequence)


_bad_date_body = "11010219800230031"  # 1980-02-30 does not exist
_seventeen = _id("110102", "1980-03-03", 35)[:17]  # one character short
_letter_o = _id("110102", "1980-05-05", 39).replace("0", "O", 1)  # the letter O typed for a zero
_q_missing = _q("戚一", "男", dt.date(1980, 1, 1), "")
_q_no_identity = _q("", "男", dt.date(1980, 1, 2), "")
_q_bad_date = _q("谢二", "男", dt.date(1980, 2, 28), _bad_date_body + "X")
_q_good_date = _q("邹三", "男", dt.date(1980, 2, 28), _id("110102", "1980-02-28", 33))
_q_bad_length = _q("喻四", "男", dt.date(1980, 3, 3), _seventeen)
_q_legacy = _q("柏五", "男", dt.date(1980, 4, 4), "110102800404037")  # 15 digits
_q_legacy_18 = _q("柏五", "男", dt.date(1980, 4, 4), _id("110102", "1980-04-04", 37))
_q_bad_chars = _q("鲁六", "男", dt.date(1980, 5, 5), _letter_o)
_q_lower_x = _q("潘七", "男", dt.date(1985, 7, 7), "11010119850707007x")  # check character X, typed lower
_q_unknown_region = _q("葛八", "男", dt.date(1980, 7, 7), _id("660101", "1980-07-07", 41))  # no province 66
_q_known_region = _q("奚九", "男", dt.date(1980, 7, 8), _id("650102", "1980-07-08", 43))
_q_birth_mismatch = _q("范十", "男", dt.date(1980, 8, 9), _id("110102", "1980-08-08", 45))
_q_birth_same = _q(
    "彭十一", "男", dt.date(1980, 9, 9), _id("110102", "1980-09-09", 47), 出生日期="1980年9月9日"
)
_q_sex_mismatch = _q("郎十二", "女", dt.date(1980, 10, 10), _id("110102", "1980-10-10", 49))  # odd: male
_q_sex_same = _q("鲁十三", "女", dt.date(1980, 11, 11), _id("110102", "1980-11-11", 50))
# ordinary insured people of the district, so that the file stays under the blocking quarantine rate (30%)
for _i in range(30):
    si_person(Person(_id("110102", f"1982-{_i % 12 + 1:02d}-{_i // 12 + 1:02d}", 61 + 2 * _i),
                     "汪" + "东方西南北中春夏秋冬金木水火土甲乙丙丁戊己庚辛壬癸子丑寅卯辰"[_i] + "平", "男",
                     dt.date(1982, _i % 12 + 1, _i // 12 + 1)), file=Q_PERSONS)  # fmt: skip
PAYER = Person(_id("110102", "1981-01-01", 51), "窦十四", "男", dt.date(1981, 1, 1))
si_person(PAYER, file=Q_PERSONS)
_q_bad_month = contribution(PAYER, "2026-13", kind="城乡居民", file=Q_CONTRIBUTIONS)
_q_good_month = contribution(PAYER, "2026年5月", kind="城乡居民", file=Q_CONTRIBUTIONS)
_q_bad_number = contribution(PAYER, "202604", kind="城乡居民", file=Q_CONTRIBUTIONS, 缴费基数="六千")
_q_good_number = contribution(PAYER, "202603", kind="城乡居民", file=Q_CONTRIBUTIONS, 缴费基数="6,000元")

QUARANTINE_CASES = [
    QuarantineCase("id_missing", _q_missing, "", _q_no_identity, near_miss_rules={"no_identity"}),
    QuarantineCase("id_bad_date", _q_bad_date, _bad_date_body + "X", _q_good_date),
    QuarantineCase("id_bad_length", _q_bad_length, _seventeen, _q_legacy, near_miss_rules={"id_legacy_15"}),
    QuarantineCase("id_bad_chars", _q_bad_chars, _letter_o, _q_lower_x),
    QuarantineCase("id_legacy_15", _q_legacy, "110102800404037", _q_legacy_18),
    QuarantineCase("id_unknown_region", _q_unknown_region, "660101", _q_known_region),
    QuarantineCase("id_birth_date_mismatch", _q_birth_mismatch, "1980-08-09", _q_birth_same),
    QuarantineCase("id_sex_mismatch", _q_sex_mismatch, "女", _q_sex_same),
    QuarantineCase("bad_month:period_month", _q_bad_month, "2026-13", _q_good_month),
    QuarantineCase("bad_number:contribution_base", _q_bad_number, "六千", _q_good_number),
]
# Every quarantine row the world holds: the cases above, the no-identity row (the only one rejected),
# the fuzzy-linked wrong check character and the exact copy of a registration.
EXPECTED_QUARANTINE = {
    *((c.trigger.split("/")[0], c.trigger, c.rule, c.value, c.action) for c in QUARANTINE_CASES),
    ("si_persons", _q_no_identity, "no_identity", "", "rejected"),
    ("si_persons", R_DISABLED_SI, "id_bad_checksum", R_DISABLED_WRONG_ID, "kept"),
    ("unemployment", COPIED_COPY_REG, "duplicate_row", COPIED_FIRST_REG, "kept"),
}


# --- one run serves every test ------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    folder: Path
    lists: dict[str, list[dict[str, str]]]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Iterator[Published]:
    base = tmp_path_factory.mktemp("hand_world")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DAGSTER_HOME", str(base / "dagster_home"))
        code = run_aidmatch(W.write(base / "input"), base / "output", base / "work", D)
    assert code == 0, "the hand-built world must run cleanly"
    folder = base / "output" / D.isoformat()
    names = (
        "proactive", "removals", "zero_employment_households", "quarantine", "person_links", "dibao_employment",
        "disability_employment", "households_at_risk",
    )  # fmt: skip
    yield Published(folder, {name: read_csv(folder / f"{name}.csv")[1] for name in names})


def test_proactive_list_is_exactly_the_hand_computed_one(published):
    """SPEC 4 item 1: RECOGNIZE with each reason, OUTREACH DIBAO / DISABLED, and no near miss."""
    got = sorted(
        tuple(row[c] for c in ("person_id", "name", "sex", "birth_date", "category", "reasons", "sources",
                               "match_confidence"))
        for row in published.lists["proactive"]
    )  # fmt: skip
    want = sorted(
        (p.id, p.name, p.sex, p.birth.isoformat(), category, reasons, sources, confidence)
        for p, category, reasons, sources, confidence in EXPECTED_PROACTIVE
    )
    assert got == want


def test_removal_list_is_exactly_the_hand_computed_one(published):
    """SPEC 4 item 2: one row per registration × roll; DUPLICATE on every registration but the earliest
    (by date, whatever the file order) and on an exact copy; confidence high when any reason is."""
    got = sorted(
        tuple(row[c] for c in ("person_id", "name", "roll", "reasons", "confidence", "source_record"))
        for row in published.lists["removals"]
    )
    want = sorted(
        (p.id, p.name, roll, reasons, confidence, record)
        for p, roll, reasons, confidence, record in EXPECTED_REMOVALS
    )
    assert got == want


def test_duplicate_evidence_names_the_registration_that_is_kept(published):
    """SPEC 4 item 2 DUPLICATE: the earliest registration stays; the evidence points at it."""
    evidence = {row["source_record"]: row["evidence"] for row in published.lists["removals"]}
    assert f"[{TWICE_EARLIER_REG}]" in evidence[TWICE_LATER_REG]
    assert f"[{COPIED_FIRST_REG}]" in evidence[COPIED_COPY_REG]


def test_zero_employment_households_are_exactly_the_hand_computed_ones(published):
    """SPEC 4 item 3: active urban households; members with 完全丧失劳动能力, 在校学生 or past working age
    are not counted; a 停保, a rural and a working household are not listed."""
    got = [
        (
            row["household_id"],
            row["status"],
            int(row["working_age_members"]),
            int(row["registered_unemployed_members"]),
            row["member_ids"],
        )
        for row in sorted(published.lists["zero_employment_households"], key=lambda r: r["household_id"])
    ]
    want = [
        (household, status, counted, registered, ";".join(sorted(p.id for p in members)))
        for household, status, counted, registered, members in EXPECTED_HOUSEHOLDS
    ]
    assert got == want


def test_the_world_holds_every_code(published):
    """The expected tables above use every code of SPEC section 4: the lists cannot lose one unseen."""
    proactive = {(c, r) for _, c, reasons, _, _ in EXPECTED_PROACTIVE for r in reasons.split(";")}
    assert proactive == {
        *(("RECOGNIZE", r) for r in ("DIBAO", "DISABLED", "AGE_4050", "LONG_TERM_UNEMPLOYED",
                                      "ZERO_EMPLOYMENT_HOUSEHOLD")),
        ("OUTREACH", "DIBAO"),
        ("OUTREACH", "DISABLED"),
    }  # fmt: skip
    removals = {(roll, r) for _, roll, reasons, _, _ in EXPECTED_REMOVALS for r in reasons.split(";")}
    assert removals == {
        *(("unemployment", r) for r in ("EMPLOYED", "FLEXIBLY_EMPLOYED", "RETIRED", "RETIREMENT_AGE",
                                         "DECEASED", "DUPLICATE", "NO_WORK_CAPACITY")),
        ("employment_difficulty", "BASIS_ENDED"),
    }  # fmt: skip
    assert {status for _, status, *_ in EXPECTED_HOUSEHOLDS} == {"CONFIRMED", "POTENTIAL"}
    assert {finding for _, finding, *_ in EXPECTED_DIBAO_EMPLOYMENT} == {"EMPLOYED", "FLEXIBLY_EMPLOYED"}
    assert {status for _, status, _ in EXPECTED_DISABILITY_EMPLOYMENT} == {
        "EMPLOYED", "FLEXIBLY_EMPLOYED", "REGISTERED_UNEMPLOYED", "RETIRED", "NOT_WORKING",
    }  # fmt: skip
    assert {risk for _, risk, _ in EXPECTED_HOUSEHOLDS_AT_RISK} == {"FLEXIBLE_ONLY", "CONTRIBUTIONS_STOPPED"}


# --- for the partner departments and the early warning -------------------------------------------


def test_dibao_employment_is_exactly_the_hand_computed_one(published):
    """SPEC 4 item 5, 民政: active 低保 members employed or flexibly employed whose record does not say 在业; the
    employer of the latest paid month; not PAID_D4 (before the look-back) nor R_DIBAO (城乡居民 only)."""
    got = sorted(
        tuple(row[c] for c in ("person_id", "name", "finding", "employer_id", "employer_name", "recorded_status",
                               "household_id", "dibao_type"))
        for row in published.lists["dibao_employment"]
    )  # fmt: skip
    want = sorted(
        (p.id, p.name, finding, *employer, recorded, household, kind)
        for p, finding, employer, recorded, household, kind in EXPECTED_DIBAO_EMPLOYMENT
    )
    assert got == want
    (registered,) = [r for r in published.lists["dibao_employment"] if r["person_id"] == EMPLOYED_D1.id]
    assert f"同一人已登记失业，其登记因已就业列入应退出名单 [{EMPLOYED_D1_REG}]" in registered["evidence"]
    assert all(r["district"] == "东城区" for r in published.lists["dibao_employment"]), "where they live"


def test_disability_employment_is_exactly_the_hand_computed_one(published):
    """SPEC 4 item 5, 残联: living working-age holders of a valid card, the first status that applies; not
    EXPIRED nor BASIS_CARD (expired before D), not C_DEAD (si_persons 死亡)."""
    got = sorted(
        tuple(row[c] for c in ("person_id", "status", "disability_category", "disability_grade"))
        for row in published.lists["disability_employment"]
    )
    want = sorted((p.id, status, "肢体", str(grade)) for p, status, grade in EXPECTED_DISABILITY_EMPLOYMENT)
    assert got == want


def test_households_at_risk_are_exactly_the_hand_computed_ones(published):
    """SPEC 4 item 6: one counted member works, and only 灵活就业 or not in the last look-back month (欠费 is not
    paid); not household 8 (its worker paid D-1) nor 13 (two members work)."""
    got = sorted(
        (row["household_id"], row["risk"], row["working_member_id"], row["working_member_name"])
        for row in published.lists["households_at_risk"]
    )
    assert got == sorted((h, risk, p.id, p.name) for h, risk, p in EXPECTED_HOUSEHOLDS_AT_RISK)


# --- quarantine ---------------------------------------------------------------------------------


def _quarantine_rows(published: Published) -> set[tuple[str, ...]]:
    return {
        tuple(row[c] for c in ("source", "source_record", "rule", "value", "action"))
        for row in published.lists["quarantine"]
    }


def test_quarantine_holds_exactly_the_expected_rows(published):
    """SPEC 5 quarantine.csv: every row-level failure, and nothing else, with its file and row."""
    assert _quarantine_rows(published) == EXPECTED_QUARANTINE


@pytest.mark.parametrize("case", QUARANTINE_CASES, ids=lambda c: c.rule)
def test_quarantine_rule_triggers_and_its_near_miss_does_not(published, case):
    """checks/row_rules.py: the rule fires on its record (kept, staged, linked or not) and not on a
    record like it."""
    rows = _quarantine_rows(published)
    source = case.trigger.split("/")[0]
    assert (source, case.trigger, case.rule, case.value, case.action) in rows
    assert {r[2] for r in rows if r[1] == case.near_miss} == case.near_miss_rules
    linked = {row["source_record"] for row in published.lists["person_links"]}
    assert case.trigger in linked, "a kept row is staged: it has a person_links row"


def test_rejected_rows_are_not_staged_and_the_manifest_counts_them(published):
    """SPEC 5: rows read = staged + rejected; only the row with neither ID nor name is rejected."""
    linked = {row["source_record"] for row in published.lists["person_links"]}
    assert _q_no_identity not in linked
    inputs = read_manifest(published.folder)["inputs"]
    expected_rows = {
        source: sum(len(rows) for file, rows in W.files.items() if file.startswith(f"{source}/"))
        for source in HEADERS
    }
    assert {s: inputs[s]["rows_read"] for s in HEADERS} == expected_rows
    assert {s: inputs[s]["rows_rejected"] for s in HEADERS} == {s: int(s == "si_persons") for s in HEADERS}


def test_quarantine_message_says_whether_the_row_was_kept_or_rejected(published):
    """SPEC 5: quarantine.csv holds kept and rejected rows alike — "the message says which"."""
    for row in published.lists["quarantine"]:
        message = row["message"].lower()
        assert ("rejected" in message) == (row["action"] == "rejected"), row
        assert ("kept" in message) == (row["action"] == "kept"), row
