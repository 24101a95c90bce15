"""What a link is called: the method of an accepted pair, and when an exact ID is somebody else's.

SQL expressions over one scored pair (its `<comparison>_level` columns), shared by the decisions
(`link.py`) and the labels people's decisions give each method (`reviewed.py`).
"""

# The fuzzy method is named after the ID level of the accepted pair; without ID evidence, after the name.
FUZZY_METHOD_SQL = """CASE id_level
    WHEN 'checksum_only' THEN 'fuzzy_checksum'
    WHEN 'one_substitution' THEN 'fuzzy_id_typo'
    WHEN 'adjacent_swap' THEN 'fuzzy_id_swap'
    WHEN 'excel_prefix' THEN 'fuzzy_excel_prefix'
    WHEN 'same_region_birth_date' THEN 'fuzzy_second_id'
    ELSE CASE WHEN household_head_level = 'agree' THEN 'fuzzy_household_head'
              WHEN name_level IN ('exact', 'alias') THEN 'fuzzy_name_dob_sex'
              WHEN name_level = 'same_pinyin' THEN 'fuzzy_pinyin_dob'
              ELSE 'fuzzy_name_similar' END
END"""
# An exact ID that is somebody else's (a housemate's typed by mistake): the names disagree completely; or
# the name is not the ID owner's (nor a homophone of it) and the record's own birth date or sex is not the
# ID's; or both the birth date and the sex are not the ID's, whatever the name (the owner's own rows may
# have mistyped the ID, leaving the mistaken row to name it). Never linked to the ID's owner.
CONFLICT_SQL = """(name_level = 'different'
    OR (name_level NOT IN ('exact', 'alias', 'same_pinyin')
        AND (birth_date_level = 'different' OR sex_level = 'disagree'))
    OR (birth_date_level = 'different' AND sex_level = 'disagree'))"""
# ID levels that carry no evidence for the candidate: the record is compared on name, birth date and sex.
NO_ID_EVIDENCE_LEVELS = "('missing', 'another_persons_id')"
