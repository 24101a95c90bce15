"""The policy rules of SPEC section 4: who is working age, who counts as employed, and the three lists.

Everything here runs inside DuckDB on the staged tables and the linker's `core_person_links` /
`core_persons`; the readers (`sources/`), the linker (`matching/`) and the Dagster wiring (`assets/`)
live elsewhere. Entry points: `build_person_facts` (facts.py) then `build_lists` (lists.py), both
driven by one `RuleSettings` (settings.py); `retirement_date` (retirement.py) is the readable
reference of the statutory retirement age; `codes.py` holds every output code with its Chinese label.
"""
