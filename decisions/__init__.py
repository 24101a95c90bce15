"""Decisions by people (SPEC section 6): the review queue and the removal list end in a person's decision,
and a decision is made once, not every night.

What belongs here: the two decision forms and the words they accept (`forms.py`), the content key that
names a record whatever row it moved to (`keys.py`), reading and validating a decisions folder
(`intake.py`), applying keep decisions to the removal list (`keeps.py`) and the audit of what every
decision did (`audit.py`). Confirm / reject decisions are applied by the linker itself
(`matching/link.py` reads the `decisions_links` table). The pipeline only reads decision files: it never
writes, moves or rewrites them.
"""
