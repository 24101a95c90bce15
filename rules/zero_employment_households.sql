-- out_zero_employment_households (零就业家庭), SPEC section 4 item 3: one row per active (在保) urban
-- (城市低保 / 城市低保边缘) household with at least one counted member (working age, neither 完全丧失劳动能力 nor
-- 在校学生 in this household's rows), where no counted member is working — facts_households holds the households,
-- their members and where they live (rules/households.sql). CONFIRMED when a working-age member (counted or not)
-- is registered unemployed: registered_unemployed_members counts those, working_age_members the counted ones.
-- Unlinked member rows cannot be judged: the evidence names them.
-- The rows of out_zero_employment_households, declared in aidmatch.tables.catalog (rules/lists.py creates
-- and fills it). Reads facts_households; no parameters.
SELECT
    household_id,
    CASE WHEN registered_unemployed_members > 0 THEN 'CONFIRMED' ELSE 'POTENTIAL' END AS status,
    working_age_members,
    registered_unemployed_members,
    member_ids,
    district,
    street,
    member_names,
    member_relations,
    concat_ws(
        '；',
        assistance_types || ' 在保',
        '计入成员：' || counted_members || '，均无单位职工/灵活就业缴费、无在业记录',
        '不计入：' || not_counted_members,
        '未能关联的成员记录：' || unlinked_records,
        place_evidence
    ) AS evidence
FROM facts_households
WHERE working_age_members > 0 AND len(working_member_ids) = 0
ORDER BY household_id
