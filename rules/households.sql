-- facts_households: one row per active (在保) urban (城市低保 / 城市低保边缘) household with a linked member — its
-- members being every linked person listed under its 户编号 — with what the household lists need to know of
-- them (SPEC section 4 items 3 and 6): the counted members (working age, neither 完全丧失劳动能力 nor 在校学生 in
-- this household's rows) and which of them work, the working-age members registered unemployed, and for the
-- street offices (SPEC section 5) each member's name and relation to the head (与户主关系, in the order of
-- member_ids) and the household's district and street (from the head's own row when it gives them, else the
-- household's first row that does: an in-force row before a stopped one). Unlinked member rows cannot be
-- judged: unlinked_records names them for the evidence.
-- Zero-employment households (nobody counted works) and households at risk (exactly one does) read it.
-- The rows of facts_households, declared in aidmatch.tables.catalog (rules/facts.py creates and fills it).
-- Reads staged_dibao, its links (links_of: an unlinked row has no person_id) and facts_persons; no parameters.
WITH
households AS (
    SELECT
        household_id,
        array_to_string(list_sort(list_distinct(list(assistance_type) FILTER (assistance_status = '在保'))), '、')
            AS assistance_types
    FROM staged_dibao
    WHERE household_id IS NOT NULL
    GROUP BY household_id
    HAVING bool_or(assistance_status = '在保' AND assistance_type IN ('城市低保', '城市低保边缘'))
),
member_rows AS (
    SELECT
        d.household_id, l.person_id, d.source_record, d.work_capacity, d.employment_status, d.relation,
        d.district, d.street,
        coalesce(d.id_norm = d.head_id_norm, false) OR d.relation IN ('户主', '本人') AS is_head,
        d.assistance_status, d.source_file, d.source_sheet, d.source_row
    FROM staged_dibao AS d
    JOIN households USING (household_id)
    LEFT JOIN links_of('dibao') AS l USING (source_record)
),
members AS (
    SELECT
        m.household_id,
        m.person_id,
        f.registered,
        f.working_age,
        f.working,
        f.name,
        min(m.relation) AS relation,
        CASE
            WHEN bool_or(m.work_capacity = '完全丧失劳动能力') THEN '完全丧失劳动能力'
            WHEN bool_or(m.employment_status = '在校学生') THEN '在校学生'
            WHEN NOT f.working_age THEN '非劳动年龄'
        END AS not_counted_because
    FROM member_rows AS m
    JOIN facts_persons AS f USING (person_id)
    GROUP BY m.household_id, m.person_id, f.registered, f.working, f.working_age, f.name
),
household_members AS (
    SELECT
        household_id,
        count(*) FILTER (not_counted_because IS NULL) AS working_age_members,
        count(*) FILTER (working_age AND registered) AS registered_unemployed_members,
        coalesce(list_sort(list(person_id) FILTER (not_counted_because IS NULL AND working)), [])
            AS working_member_ids,
        array_to_string(list(person_id ORDER BY person_id), ';') AS member_ids,
        array_to_string(list(coalesce(name, '') ORDER BY person_id), ';') AS member_names,
        array_to_string(list(coalesce(relation, '') ORDER BY person_id), ';') AS member_relations,
        array_to_string(
            list_sort(list(person_id || CASE WHEN registered THEN '（已登记失业）' ELSE '' END)
                FILTER (not_counted_because IS NULL)),
            '、'
        ) AS counted_members,
        array_to_string(
            list_sort(
                list(person_id || '（' || not_counted_because || CASE WHEN registered THEN '，已登记失业' ELSE '' END || '）')
                    FILTER (not_counted_because IS NOT NULL)
            ),
            '、'
        ) AS not_counted_members
    FROM members
    GROUP BY household_id
),
place AS (
    SELECT
        household_id,
        arg_min(
            {'district': district, 'street': street, 'record': source_record, 'is_head': is_head},
            (NOT is_head, assistance_status IS DISTINCT FROM '在保', source_file, source_sheet, source_row)
        ) AS chosen
    FROM member_rows
    WHERE district IS NOT NULL OR street IS NOT NULL
    GROUP BY household_id
),
unlinked_rows AS (
    SELECT household_id, array_to_string(list_sort(list(source_record)), '、') AS unlinked_records
    FROM member_rows
    WHERE person_id IS NULL
    GROUP BY household_id
)
SELECT
    household_id,
    h.assistance_types,
    m.working_age_members,
    m.registered_unemployed_members,
    m.working_member_ids,
    m.member_ids,
    m.member_names,
    m.member_relations,
    m.counted_members,
    nullif(m.not_counted_members, '') AS not_counted_members,
    u.unlinked_records,
    place.chosen.district,
    place.chosen.street,
    concat_ws('、', CASE WHEN place.chosen.district IS NOT NULL THEN '区县' END, CASE WHEN place.chosen.street IS NOT NULL THEN '街道' END)
        || '取自' || CASE WHEN place.chosen.is_head THEN '户主' ELSE '成员' END || '的低保记录[' || place.chosen.record || ']'
        AS place_evidence
FROM households AS h
JOIN household_members AS m USING (household_id)
LEFT JOIN unlinked_rows AS u USING (household_id)
LEFT JOIN place USING (household_id)
