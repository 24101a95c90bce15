"""How long a street office's visit outcome keeps a person off its 走访 sheet (SPEC section 6).

One frozen dataclass, validated on construction; `aidmatch.settings` loads it from the `visits:` section of
the YAML config and the manifest echoes it. A person visited is back on the sheet, saying why, once the
outcome's review date (走访日期 plus these months) has come — or at once when the evidence changes.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class VisitSettings:
    # 暂无需求 (no need now): ask again in half a year.
    no_need_now_months: int = 6
    # 联系不上 (unreachable): try again next month.
    unreachable_months: int = 1
    # 不在本辖区 (moved away): the extracts may still place the person here for a year.
    moved_away_months: int = 12
    # 已登记 / 已申请认定 (registered): the next monthly extract shows it; past that, the person is due again.
    registered_months: int = 1
    # 信息有误 (record wrong): the department that holds the record corrects it meanwhile.
    record_wrong_months: int = 3

    def __post_init__(self) -> None:
        for name, months in vars(self).items():
            if not 1 <= months <= 120:
                raise ValueError(f"{name} must be between 1 and 120 months")

    def months(self) -> dict[str, int]:
        """Months until the review date, per outcome code (rules/codes.py)."""
        return {
            "NO_NEED_NOW": self.no_need_now_months,
            "UNREACHABLE": self.unreachable_months,
            "MOVED_AWAY": self.moved_away_months,
            "REGISTERED": self.registered_months,
            "RECORD_WRONG": self.record_wrong_months,
        }
