"""Identity resolution (SPEC section 3): which person is each staged record about?

The public API is `link_persons(con, settings) -> LinkSummary`; it reads the `staged_<source>` tables and
creates `core_person_links`, `core_review_queue`, `core_persons` and the view `core_source_duplicates`.
How two records are compared lives in `comparisons.py` (levels) and `settings.py` (their weights), which
pairs are compared in `blocking.py`, the decisions in `link.py`, the report in `summary.py`.
"""

from aidmatch.matching.link import link_persons
from aidmatch.matching.settings import LinkSettings
from aidmatch.matching.summary import LinkSummary

__all__ = ["LinkSettings", "LinkSummary", "link_persons"]
