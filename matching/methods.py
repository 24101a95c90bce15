"""What a link is called: every `method` a link can carry (person_links.csv) with what it means, the method
of an accepted pair, and when an exact ID is somebody else's.

`LINK_METHODS` is the stable code list for the case systems: `aidmatch.tables` documents it and the
output schema rejects any other, so a new method is declared here first. The SQL expressions work over
one scored pair (its `<comparison>_level` columns), shared by the decisions (`link.py`) and the labels
people's decisions give each method (`reviewed.py`).
"""

LINK_METHODS: dict[str, str] = {
    "exact_id": "linked by the record's own valid citizen ID (身份证号精确比对)",
    "reviewed": "linked by an analyst's decision (确认) in the decisions folder; the evidence names its file and row",
    "fuzzy_checksum": "the record's ID differs from the person's only in its check character",
    "fuzzy_id_typo": "the record's ID differs from the person's in one mistyped character",
    "fuzzy_id_swap": "the record's ID is the person's with two adjacent characters swapped",
    "fuzzy_excel_prefix": "the ID was stored as a number by Excel (last digits lost); its surviving digits, name "
    "and sex point to exactly this person",
    "fuzzy_second_id": "a valid ID of its own, linked to another person with the same region, birth date and "
    "name: one person under two IDs (一人多证)",
    "fuzzy_household_head": "a 低保 household head whose own member ID is damaged: the household's 户主身份证号 "
    "names this person, with the same name, birth date and sex",
    "fuzzy_name_dob_sex": "no usable ID (or another person's): the same name (or alias, or one character "
    "unknown: a 生僻字 placeholder), birth date and sex",
    "fuzzy_pinyin_dob": "no usable ID: a name of the same pinyin (同音字) or a near one, and the birth date",
    "fuzzy_name_similar": "no usable ID: a similar name (a dropped or similar-shape character), birth date and sex",
    "unlinked:below_threshold": "not linked: the best candidate scored below linking.review_threshold",
    "unlinked:review": "not linked yet: the best candidate is in the grey zone, in review_queue.csv",
    "unlinked:ambiguous": "not linked: two candidates within linking.ambiguity_margin, both in review_queue.csv",
    "unlinked:id_name_conflict": "not linked: the exact ID is another person's (typed by mistake?) and no "
    "candidate is strong enough; candidates in review_queue.csv, never the ID's owner",
    "unlinked:invalid_id_no_candidate": "not linked: the ID cannot be trusted and no person came close",
    "unlinked:rejected": "not linked: an analyst rejected (否决) the only candidate",
}


# The fuzzy method is named after the ID level of the accepted pair; without ID evidence, after the name.
FUZZY_METHOD_SQL = """CASE id_level
    WHEN 'checksum_only' THEN 'fuzzy_checksum'
    WHEN 'one_substitution' THEN 'fuzzy_id_typo'
    WHEN 'adjacent_swap' THEN 'fuzzy_id_swap'
    WHEN 'excel_prefix' THEN 'fuzzy_excel_prefix'
    WHEN 'same_region_birth_date' THEN 'fuzzy_second_id'
    WHEN 'adjacent_sequence' THEN 'fuzzy_second_id'
    ELSE CASE WHEN household_head_level = 'agree' THEN 'fuzzy_household_head'
              WHEN name_level IN ('exact', 'alias', 'unknown_char') THEN 'fuzzy_name_dob_sex'
              WHEN name_level = 'same_pinyin' THEN 'fuzzy_pinyin_dob'
              ELSE 'fuzzy_name_similar' END
END"""
# An exact ID that is somebody else's (a housemate's typed by mistake): the names disagree completely; or
# the name is not the ID owner's (nor a homophone of it) and the record's own birth date or sex is not the
# ID's; or both the birth date and the sex are not the ID's, whatever the name (the owner's own rows may
# have mistyped the ID, leaving the mistaken row to name it). Never linked to the ID's owner.
CONFLICT_SQL = """(name_level = 'different'
    OR (name_level NOT IN ('exact', 'alias', 'unknown_char', 'same_pinyin')
        AND (birth_date_level = 'different' OR sex_level = 'disagree'))
    OR (birth_date_level = 'different' AND sex_level = 'disagree'))"""
# ID levels that carry no evidence for the candidate: the record is compared on name, birth date and sex.
NO_ID_EVIDENCE_LEVELS = "('missing', 'another_persons_id')"
