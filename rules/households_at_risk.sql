-- out_households_at_risk (零就业家庭预警监测), SPEC section 4 item 6: one row per active urban household (as in
-- item 3: facts_households) that is not zero-employment because exactly one counted member is working, where that
-- work is fragile — FLEXIBLE_ONLY: the member is flexibly employed (only 灵活就业 in the look-back), not
-- employed; CONTRIBUTIONS_STOPPED: employed, but the latest look-back month (the month before D's) holds no paid
-- 单位职工 contribution of theirs. A member who works only by the 低保 record's 在业, or whose job paid the
-- last month, makes no warning. The working member whose registration is on the removal list for that work says
-- so: the registration may end while the household is one job away from zero.
-- `summary` is the one line a street office's printed work list shows (the evidence says it in full;
-- months_for_people: rules/sql_files.py).
-- The rows of out_households_at_risk, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads facts_households, facts_persons and out_removals. Parameters: $as_of.
WITH
work_removals AS (
    SELECT person_id, format('该成员已登记失业，其登记因{}列入应退出名单 [{}]：退出后仍应关注其家庭就业', work, records) AS note
    FROM unemployment_work_removals()
),
one_worker AS (
    SELECT
        h.*,
        f.person_id AS working_member_id,
        f.name AS working_member_name,
        CAST(date_trunc('month', $as_of::DATE) - INTERVAL 1 MONTH AS DATE) AS last_month,
        CASE
            WHEN f.flexibly_employed THEN 'FLEXIBLE_ONLY'
            WHEN f.employed AND f.last_employment_month < last_month THEN 'CONTRIBUTIONS_STOPPED'
        END AS risk,
        CASE
            WHEN f.flexibly_employed THEN f.flexible_evidence
            ELSE f.employment_evidence || format('；{} 无已实缴单位职工缴费', strftime(last_month, '%Y-%m'))
        END AS work_evidence,
        CASE
            WHEN f.flexibly_employed THEN format('仅有灵活就业缴费（{}）', months_for_people(f.flexible_months))
            ELSE format(
                '在{}的单位职工缴费{}后中断', coalesce(f.latest_employer_name, f.latest_employer_id, '原单位'),
                months_for_people([strftime(f.last_employment_month, '%Y-%m')])
            )
        END AS work_summary
    FROM facts_households AS h
    JOIN facts_persons AS f ON f.person_id = h.working_member_ids[1]
    WHERE len(h.working_member_ids) = 1
)
SELECT
    household_id,
    o.risk,
    o.working_member_id,
    o.working_member_name,
    o.member_ids,
    concat_ws(
        '；',
        o.assistance_types || ' 在保',
        '计入成员：' || o.counted_members,
        '其中仅 ' || o.working_member_id || ' 就业：' || o.work_evidence,
        '不计入：' || o.not_counted_members,
        '未能关联的成员记录：' || o.unlinked_records,
        r.note,
        o.place_evidence
    ) AS evidence,
    o.district,
    o.street,
    o.member_names,
    o.member_relations,
    format(
        '唯一就业成员{}{}{}', coalesce(o.working_member_name, o.working_member_id), o.work_summary,
        CASE WHEN r.note IS NOT NULL THEN '；其失业登记列入应退出名单' ELSE '' END
    ) AS summary
FROM one_worker AS o
LEFT JOIN work_removals AS r ON r.person_id = o.working_member_id
WHERE o.risk IS NOT NULL
ORDER BY o.risk, household_id
