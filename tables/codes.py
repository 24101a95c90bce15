"""The code lists of the published columns: every stable code with its meaning, from the part that owns it.

A column names its list (`Column.codes`); the case systems' schema lists the codes and refuses any other.
Each list is read from where the code is made — the policy codes from `rules/codes.py`, the link methods
from `matching/methods.py`, the quarantine rules from `checks/row_rules.py` (every rule of every source,
its Chinese name and message) — so nothing is declared twice.
"""

from functools import cache

from aidmatch.checks.row_rules import rules_for
from aidmatch.decisions.audit import STATUSES as DECISION_STATUSES
from aidmatch.decisions.intake import RULES as DECISION_RULES
from aidmatch.matching.methods import LINK_METHODS
from aidmatch.rules.codes import labels_of
from aidmatch.sources.raw_table import SURPLUS_COLUMN
from aidmatch.sources.staging import RAW_KINDS
from aidmatch.sources.tables import SOURCE_LABELS, SOURCES

# A cell longer than this is cut (intake.max_cell_chars); the number only appears in the rules' messages.
_ANY_CELL_LIMIT = 32767


def _policy(kind: str) -> dict[str, str]:
    return labels_of(kind)


@cache
def quarantine_rules() -> dict[str, str]:
    """Every rule code any source can produce, with its Chinese name and its message."""
    codes = {}
    for source in SOURCES:
        # as if the source's files carried every column (and a CSV row too many fields): rules_for keeps the source's own
        columns = [f"{prefix}{key}" for key in RAW_KINDS for prefix in ("raw_", "_cut_", "_ctl_")]
        columns.append(SURPLUS_COLUMN)
        for rule in rules_for(source, columns, _ANY_CELL_LIMIT):
            codes[rule.rule] = (
                f"{rule.label} — {'notice, ' if rule.notice else ''}{rule.action}: {rule.message}"
            )
    return dict(sorted(codes.items()))


@cache
def code_list(name: str) -> dict[str, str]:
    """The codes of one list, code -> meaning."""
    lists = {
        "source": lambda: {s: f"{SOURCE_LABELS[s]} ({s}/ folder)" for s in SOURCES},
        "sex": lambda: {"男": "male", "女": "female"},
        "category": lambda: _policy("category"),
        "proactive_reason": lambda: _policy("reason"),
        "removal_reason": lambda: _policy("removal_reason"),
        "roll": lambda: _policy("roll"),
        "confidence": lambda: _policy("confidence"),
        "household_status": lambda: _policy("household_status"),
        "entitlement": lambda: _policy("entitlement"),
        "dibao_finding": lambda: _policy("dibao_finding"),
        "disability_status": lambda: _policy("disability_status"),
        "household_risk": lambda: _policy("household_risk"),
        "visit_outcome": lambda: _policy("visit_outcome"),
        "match_confidence": lambda: {
            "exact": "every record behind the person links by its own valid ID",
            "fuzzy": "at least one record behind the person was linked by a fuzzy method",
        },
        "link_method": lambda: LINK_METHODS,
        "quarantine_rule": quarantine_rules,
        "quarantine_action": lambda: {
            "rejected": "the row was not staged (nothing to link it by)",
            "kept": "the row was staged with its defect flagged",
        },
        "list": lambda: {
            "proactive": "主动发现名单 (proactive.csv)",
            "removals": "应退出名单 (removals.csv)",
            "zero_employment_households": "零就业家庭 (zero_employment_households.csv)",
            "entitlements": "应享尽享 (entitlements.csv)",
            "dibao_employment": "低保家庭成员就业状况比对 (dibao_employment.csv)",
            "disability_employment": "持证残疾人就业状况 (disability_employment.csv)",
            "households_at_risk": "零就业家庭预警 (households_at_risk.csv)",
        },
        "decision_kind": lambda: {
            "link": "a review-queue pair: 确认 confirm / 否决 reject the candidate person",
            "keep": "a removal: 保留 keep on the roll until 有效期至 / 退出 take off",
            "visit": "a street office's visit to a person of the proactive list: 结果 已登记 / 暂无需求 / 联系不上 / "
            "不在本辖区 / 信息有误",
        },
        "decision_status": lambda: DECISION_STATUSES,
        "decision_rule": lambda: DECISION_RULES,
        "change": lambda: {
            "entered": "on the list now, not on the previous run's",
            "left": "on the previous run's list, not on this one",
            "changed": "on both, its detail (reasons or status) changed",
        },
    }
    return dict(lists[name]())
