-- out_proactive (主动发现名单), SPEC section 4 item 1: one row per person.
--   RECOGNIZE: registered unemployed, 就业困难人员 = 否, working age, not employed,
--              with at least one reason DIBAO, DISABLED, AGE_4050, LONG_TERM_UNEMPLOYED, ZERO_EMPLOYMENT_HOUSEHOLD.
--   OUTREACH:  not registered, working age, not working, not retired or dead, not 在校学生 (in any 低保
--              record), and DIBAO (active 低保 member not 完全丧失劳动能力) or DISABLED (valid card of an
--              outreach grade).
-- match_confidence: exact when every record of the person was linked by its exact ID, else fuzzy.
-- Then where the person lives and how to reach them (facts_locations), the evidence ending with where
-- those came from (LOCATION). The latest visit outcome (outcome, outcome_date, revisit_on) is empty here:
-- decisions/visits.py fills it from the street offices' 走访 sheets.
-- The rows of out_proactive, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads facts_persons, facts_locations and out_zero_employment_households.
-- Parameters: $as_of, $age_4050_women, $age_4050_men, $long_term_months, $outreach_disability_grades.
WITH
zero_employment_members AS (
    SELECT person_id, string_agg(household_id, '、' ORDER BY household_id) AS household_ids
    FROM (SELECT household_id, unnest(string_split(member_ids, ';')) AS person_id FROM out_zero_employment_households)
    GROUP BY person_id
),
recognize AS (
    SELECT
        f.*,
        'RECOGNIZE' AS category,
        [
            CASE WHEN f.dibao_active THEN {'code': 'DIBAO', 'evidence': f.dibao_evidence} END,
            CASE WHEN f.disabled THEN {'code': 'DISABLED', 'evidence': f.disability_evidence} END,
            CASE
                WHEN (f.sex = '女' AND f.age >= $age_4050_women) OR (f.sex = '男' AND f.age >= $age_4050_men)
                    THEN {'code': 'AGE_4050', 'evidence': format('{} {}周岁（出生日期 {}）', f.sex, f.age, f.birth_date)}
            END,
            CASE
                WHEN f.registered_on + to_months($long_term_months) <= $as_of::DATE
                    THEN {'code': 'LONG_TERM_UNEMPLOYED', 'evidence': format('失业登记日期 {}', f.registered_on)}
            END,
            CASE
                WHEN z.person_id IS NOT NULL
                    THEN {'code': 'ZERO_EMPLOYMENT_HOUSEHOLD', 'evidence': '零就业家庭 户编号 ' || z.household_ids}
            END
        ] AS found
    FROM facts_persons AS f
    LEFT JOIN zero_employment_members AS z USING (person_id)
    WHERE f.registered AND NOT f.is_difficult AND f.working_age AND NOT f.employed
),
outreach AS (
    SELECT
        f.*,
        'OUTREACH' AS category,
        [
            CASE
                WHEN f.dibao_active AND f.work_capacity IS DISTINCT FROM '完全丧失劳动能力'
                    THEN {'code': 'DIBAO', 'evidence': f.dibao_evidence}
            END,
            CASE
                WHEN f.disabled AND list_contains($outreach_disability_grades, f.disability_grade)
                    THEN {'code': 'DISABLED', 'evidence': f.disability_evidence}
            END
        ] AS found
    FROM facts_persons AS f
    WHERE NOT f.registered AND f.working_age AND NOT f.working AND NOT f.retired AND NOT f.deceased AND NOT f.student
),
candidates AS (
    SELECT *, list_sort(list_filter(found, lambda r: r IS NOT NULL)) AS reasons FROM recognize
    UNION ALL BY NAME
    SELECT *, list_sort(list_filter(found, lambda r: r IS NOT NULL)) AS reasons FROM outreach
)
SELECT
    c.person_id,
    c.name,
    c.sex,
    c.birth_date,
    c.category,
    array_to_string(list_transform(c.reasons, lambda r: r.code), ';') AS reasons,
    array_to_string(list_sort(c.sources), ';') AS sources,
    c.match_confidence,
    loc.district,
    loc.street,
    loc.community,
    loc.phone,
    loc.address,
    NULL::VARCHAR AS outcome,
    NULL::DATE AS outcome_date,
    NULL::DATE AS revisit_on,
    concat_ws(
        ' | ', array_to_string(list_transform(c.reasons, lambda r: r.code || ': ' || r.evidence), ' | '),
        'LOCATION: ' || loc.evidence
    ) AS evidence
FROM candidates AS c
LEFT JOIN facts_locations AS loc USING (person_id)
WHERE len(c.reasons) > 0
ORDER BY c.category, c.person_id
