-- out_disability_employment (持证残疾人就业状况, for 残联), SPEC section 4 item 5: one row per living person of
-- working age holding a valid card (有效, 有效期至 not before D; someone si_persons records as 死亡 is not listed),
-- with the card's category and grade (the latest issued valid card) and the first status that applies:
-- EMPLOYED, FLEXIBLY_EMPLOYED (only 灵活就业 in the look-back), REGISTERED_UNEMPLOYED (registered), RETIRED
-- (si_persons 离退休: early retirement on disability grounds is common), NOT_WORKING — the 残联's 就业需求摸排 list
-- and its employment counts per district.
-- Then where the person lives and how to reach them (facts_locations), the evidence ending with where those
-- came from (LOCATION), as on the other lists; `summary` is the one line 残联's printed list shows
-- (months_for_people: rules/sql_files.py).
-- The rows of out_disability_employment, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads facts_persons and facts_locations; no parameters.
WITH
holders AS (
    SELECT
        *,
        CASE
            WHEN employed THEN 'EMPLOYED'
            WHEN flexibly_employed THEN 'FLEXIBLY_EMPLOYED'
            WHEN registered THEN 'REGISTERED_UNEMPLOYED'
            WHEN retired THEN 'RETIRED'
            ELSE 'NOT_WORKING'
        END AS status
    FROM facts_persons
    WHERE disabled AND working_age AND NOT deceased
)
SELECT
    h.person_id,
    h.name,
    h.disability_category,
    h.disability_grade,
    h.status,
    concat_ws(
        ' | ',
        h.disability_evidence,
        CASE h.status
            WHEN 'EMPLOYED' THEN h.employment_evidence
            WHEN 'FLEXIBLY_EMPLOYED' THEN h.flexible_evidence
            WHEN 'REGISTERED_UNEMPLOYED' THEN h.registration_evidence || '，无单位职工/灵活就业缴费'
            WHEN 'RETIRED' THEN h.retired_evidence || '，无单位职工/灵活就业缴费，未登记失业'
            ELSE '无单位职工/灵活就业缴费，未登记失业，未见离退休记录'
        END,
        'LOCATION: ' || loc.evidence
    ) AS evidence,
    loc.district,
    loc.street,
    loc.community,
    loc.phone,
    loc.address,
    h.sex,
    h.age,
    CASE WHEN h.employed THEN h.latest_employer_name END AS employer_name,
    CASE h.status
        WHEN 'EMPLOYED' THEN months_for_people(h.employment_months) || '缴费'
        WHEN 'FLEXIBLY_EMPLOYED' THEN months_for_people(h.flexible_months) || '缴费'
        WHEN 'REGISTERED_UNEMPLOYED' THEN '失业登记 ' || coalesce(h.registered_on::VARCHAR, '日期空')
        WHEN 'RETIRED' THEN '离退休日期 ' || coalesce(h.retired_on::VARCHAR, '空')
        ELSE '无缴费，未登记失业'
    END AS summary
FROM holders AS h
LEFT JOIN facts_locations AS loc USING (person_id)
ORDER BY h.status, h.person_id
