-- out_entitlements (应享尽享, 直补快办), SPEC section 4 item 4: one row per person × entitlement (× employer for
-- SI_SUBSIDY_EMPLOYER) that the data already proves, so that it is paid without an application.
-- Recognized (就业困难人员): a linked registration says 就业困难人员 = 是; the recognition date is the earliest
-- 认定日期 of those registrations. The subsidy period (社会保险补贴期限) runs $subsidy_months months from it, or
-- to the statutory retirement date when that is less than $subsidy_retirement_years years after it; D must fall
-- within it, and subsidy_until is its last day. Without a 认定日期 the period cannot be shown: the entitlement is
-- listed with confidence review and says so (while D is before the retirement date: no period runs past it).
--   SI_SUBSIDY_FLEXIBLE: recognized, within the period, flexibly employed at D (only 灵活就业 in the lookback
--     months), alive and not retired. The same person is on the removal list (FLEXIBLY_EMPLOYED, review): the
--     registration as unemployed may end while the subsidy is owed; both evidences say so.
--   SI_SUBSIDY_EMPLOYER: recognized, within the period, paid 单位职工 contributions in the lookback months from an
--     employer (单位编号, else 单位名称) whose first paid 单位职工 month for the person is not before the 认定日期's
--     month and is later than the extract's first month (a hire the extract shows): one row per such employer.
--     The extract's first month is the earliest 费款所属期 holding at least $extract_month_min_share of the
--     busiest month's rows, so that a few back-paid (补缴) rows for an old month do not pass for coverage.
--   TEMP_LIVING_ALLOWANCE (临时生活补贴): registered unemployed, working age, not working, alive and not retired,
--     an active 低保/低保边缘 member. A 低保 record that says 完全丧失劳动能力 or 在校学生 contradicts the
--     registration (which says the person seeks work): the row is still listed, with confidence review and the
--     conflict named — the removal list asks a case worker which record is right (NO_WORK_CAPACITY), and
--     dropping the row would stop a payment on an unverified record.
-- Then where the person lives and how to reach them (facts_locations), the evidence ending with where those
-- came from (LOCATION), as on the other lists. Not published (the CSV's evidence says them): recognized_on,
-- employed_from (the employer's first paid month) and paid_months (its months in the lookback), for the
-- employers' view.
-- The rows of out_entitlements, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads facts_persons, facts_locations, staged_si_contributions (the extract's months) and
-- facts_person_employers (the recognized persons' employers of the look-back months).
-- Parameters: $as_of, $lookback_months, $subsidy_months, $subsidy_retirement_years, $extract_month_min_share.
WITH
recognized AS (
    SELECT
        *,
        recognized_on IS NOT NULL AS period_known,
        retirement_date < recognized_on + to_years($subsidy_retirement_years) AS runs_to_retirement,
        CAST(CASE WHEN runs_to_retirement THEN retirement_date ELSE recognized_on + to_months($subsidy_months) END AS DATE)
            AS period_end,  -- the first day after the period
        CAST(period_end - 1 AS DATE) AS subsidy_until,
        CASE
            WHEN period_known THEN recognized_on <= $as_of::DATE AND $as_of::DATE < period_end
            ELSE $as_of::DATE < retirement_date
        END AS in_period,
        CASE WHEN period_known THEN 'high' ELSE 'review' END AS confidence,
        CASE
            WHEN NOT period_known
                THEN format('就业困难人员认定日期为空 [{}]：无法确定补贴期限，需核实', recognition_record)
            WHEN runs_to_retirement THEN format(
                '认定日期 {} [{}]；法定退休日期 {} 距认定不足{}年，补贴期限延至退休，至 {}',
                recognized_on, recognition_record, retirement_date, $subsidy_retirement_years, subsidy_until
            )
            ELSE format(
                '认定日期 {} [{}]；补贴期限{}个月，至 {}', recognized_on, recognition_record, $subsidy_months, subsidy_until
            )
        END AS recognition_evidence
    FROM facts_persons
    WHERE is_difficult
),
extract_months AS (
    SELECT period_month, count(*) AS row_count
    FROM staged_si_contributions
    WHERE period_month IS NOT NULL
    GROUP BY period_month
),
extract_start AS (
    SELECT min(period_month) AS first_month
    FROM extract_months
    WHERE row_count >= $extract_month_min_share * (SELECT max(row_count) FROM extract_months)
),
-- Each employer of a recognized person: its first paid 单位职工 month in the extract, its lookback months.
employments AS (
    SELECT * FROM facts_person_employers WHERE person_id IN (SELECT person_id FROM recognized)
),
flexible AS (
    SELECT
        person_id,
        name,
        'SI_SUBSIDY_FLEXIBLE' AS entitlement,
        NULL::VARCHAR AS employer_id,
        NULL::VARCHAR AS employer_name,
        CASE WHEN period_known THEN subsidy_until END AS subsidy_until,
        confidence,
        concat_ws(
            ' | ', recognition_evidence, flexible_evidence,
            '同一人因灵活就业列入应退出名单（需核实）：失业登记可以终止，补贴仍应享受'
        ) AS evidence,
        recognized_on,
        NULL::DATE AS employed_from,
        NULL::VARCHAR AS paid_months
    FROM recognized
    WHERE in_period AND flexibly_employed AND NOT deceased AND NOT retired
),
employer AS (
    SELECT
        r.person_id,
        r.name,
        'SI_SUBSIDY_EMPLOYER' AS entitlement,
        e.employer_id,
        e.employer_name,
        CASE WHEN r.period_known THEN r.subsidy_until END AS subsidy_until,
        r.confidence,
        concat_ws(
            ' | ', r.recognition_evidence,
            format(
                '单位 {}（单位编号 {}）自 {} 起缴纳单位职工社保（已实缴），近{}个月 {}；缴费明细自 {} 起',
                coalesce(e.employer_name, '名称空'), coalesce(e.employer_id, '空'), strftime(e.first_month, '%Y-%m'),
                $lookback_months, array_to_string(e.lookback_months, ','), strftime(x.first_month, '%Y-%m')
            )
        ) AS evidence,
        r.recognized_on,
        e.first_month AS employed_from,
        array_to_string(e.lookback_months, ',') AS paid_months
    FROM recognized AS r
    JOIN employments AS e USING (person_id)
    CROSS JOIN extract_start AS x
    WHERE r.in_period
      AND e.first_month > x.first_month
      AND (NOT r.period_known OR e.first_month >= date_trunc('month', r.recognized_on))
),
allowance AS (
    SELECT
        person_id,
        name,
        'TEMP_LIVING_ALLOWANCE' AS entitlement,
        NULL::VARCHAR AS employer_id,
        NULL::VARCHAR AS employer_name,
        NULL::DATE AS subsidy_until,
        CASE WHEN no_work_capacity OR student THEN 'review' ELSE 'high' END AS confidence,
        concat_ws(
            ' | ', registration_evidence, dibao_evidence, '无单位职工/灵活就业缴费，低保记录未在业',
            CASE WHEN no_work_capacity OR student THEN format(
                '需核实：{}，与失业登记（本人求职）矛盾，请核实哪条记录属实',
                concat_ws('；', CASE WHEN no_work_capacity THEN no_work_capacity_evidence END,
                          CASE WHEN student THEN student_evidence END)
            ) END
        ) AS evidence,
        NULL::DATE AS recognized_on,
        NULL::DATE AS employed_from,
        NULL::VARCHAR AS paid_months
    FROM facts_persons
    WHERE registered AND working_age AND NOT working AND NOT deceased AND NOT retired AND dibao_active
),
entitled AS (
    SELECT * FROM flexible
    UNION ALL
    SELECT * FROM employer
    UNION ALL
    SELECT * FROM allowance
)
SELECT
    e.* REPLACE (concat_ws(' | ', e.evidence, 'LOCATION: ' || loc.evidence) AS evidence),
    loc.district,
    loc.street,
    loc.community,
    loc.phone,
    loc.address
FROM entitled AS e
LEFT JOIN facts_locations AS loc USING (person_id)
ORDER BY entitlement, person_id, employer_id
