"""What the published workbooks for people look like.

One frozen dataclass, validated on construction; `aidmatch.settings` loads it from the `publish:`
section of the YAML config and the manifest echoes it.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class PublishSettings:
    # The employers' view of the 单位吸纳 subsidy (直补快办): false, one workbook with a sheet per employer
    # (entitlements_by_employer.xlsx); true, one workbook per employer (by_employer/<单位编号>_<单位名称>.xlsx),
    # each ready to send with the employer's letter.
    workbook_per_employer: bool = False
