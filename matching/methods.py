"""Every `method` a link can carry (person_links.csv), with what it means: a stable code for the case systems.

`link.py` writes these strings; `aidmatch.tables` documents them and the output schema rejects any other,
so a new method is declared here first.
"""

LINK_METHODS: dict[str, str] = {
    "exact_id": "linked by the record's own valid citizen ID (身份证号精确比对)",
    "fuzzy_checksum": "the record's ID differs from the person's only in its check character",
    "fuzzy_id_typo": "the record's ID differs from the person's in one mistyped character",
    "fuzzy_id_swap": "the record's ID is the person's with two adjacent characters swapped",
    "fuzzy_excel_prefix": "the ID was stored as a number by Excel (last digits lost); its surviving digits, name "
    "and sex point to exactly this person",
    "fuzzy_second_id": "a valid ID of its own, linked to another person with the same region, birth date and "
    "name: one person under two IDs (一人多证)",
    "fuzzy_name_dob_sex": "no usable ID: the same name (or alias), birth date and sex",
    "fuzzy_pinyin_dob": "no usable ID: a name of the same pinyin (同音字) or a near one, and the birth date",
    "unlinked:below_threshold": "not linked: the best candidate scored below linking.review_threshold",
    "unlinked:review": "not linked yet: the best candidate is in the grey zone, in review_queue.csv",
    "unlinked:ambiguous": "not linked: two candidates within linking.ambiguity_margin, both in review_queue.csv",
    "unlinked:id_name_conflict": "not linked: the exact ID belongs to a person of a completely different name "
    "(another person's ID typed by mistake?), in review_queue.csv",
    "unlinked:invalid_id_no_candidate": "not linked: the ID cannot be trusted and no person came close",
}
