-- out_dibao_employment (低保家庭成员就业状况比对, for 民政), SPEC section 4 item 5: one row per person — an active
-- (在保) 低保/低保边缘 member, employed or flexibly employed at D, none of whose active 低保 records says 在业
-- (民政's record predates the job). EMPLOYED names the employer of the latest paid 单位职工 month in the look-back,
-- the smallest 单位编号 on a tie (facts_persons.latest_employer_*); FLEXIBLY_EMPLOYED names none. household_id,
-- dibao_type, recorded_status and relation are those of the member's current active record (the latest to start).
-- 民政 uses it to update the record, deduct work costs and apply 低保渐退 (the seeds' 联动机制), not to cut anyone off.
-- A registered unemployed member whose registration is on the removal list for the same work (EMPLOYED or
-- FLEXIBLY_EMPLOYED on the unemployment roll, after the keep decisions) says so: one person, two offices.
-- Then where the person lives and how to reach them (facts_locations), the evidence ending with where those
-- came from (LOCATION), as on the other lists; `relation`, `paid_months` and `on_removal_list` are what 民政's printed
-- list shows in columns (months_for_people: rules/sql_files.py).
-- The rows of out_dibao_employment, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads facts_persons, out_removals and facts_locations; no parameters.
WITH
work_removals AS (
    SELECT person_id, format('同一人已登记失业，其登记因{}列入应退出名单 [{}]', work, records) AS note
    FROM unemployment_work_removals()
),
found AS (
    SELECT
        *,
        CASE WHEN employed THEN 'EMPLOYED' ELSE 'FLEXIBLY_EMPLOYED' END AS finding,
        CASE
            WHEN employed THEN employment_evidence || format(
                '；最近缴费月份 {} 的单位：{}（单位编号 {}）', strftime(last_employment_month, '%Y-%m'),
                coalesce(latest_employer_name, '名称空'), coalesce(latest_employer_id, '空')
            )
            ELSE flexible_evidence
        END AS work_evidence
    FROM facts_persons
    WHERE dibao_active AND (employed OR flexibly_employed) AND NOT works_per_dibao
)
SELECT
    f.person_id,
    f.name,
    f.dibao_household_id AS household_id,
    f.dibao_type,
    f.employment_status AS recorded_status,
    f.finding,
    CASE WHEN f.employed THEN f.latest_employer_id END AS employer_id,
    CASE WHEN f.employed THEN f.latest_employer_name END AS employer_name,
    concat_ws(' | ', f.work_evidence, f.dibao_evidence, r.note, 'LOCATION: ' || loc.evidence) AS evidence,
    loc.district,
    loc.street,
    loc.community,
    loc.phone,
    loc.address,
    f.dibao_relation AS relation,
    months_for_people(CASE WHEN f.employed THEN f.employment_months ELSE f.flexible_months END) AS paid_months,
    r.note IS NOT NULL AS on_removal_list
FROM found AS f
LEFT JOIN work_removals AS r USING (person_id)
LEFT JOIN facts_locations AS loc USING (person_id)
ORDER BY f.finding, f.person_id
