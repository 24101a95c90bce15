-- facts_persons: one row per person of core_persons, with the facts of SPEC section 4 as of $as_of
-- and, beside each fact, the evidence text a case worker needs to check it (record, months, dates).
-- Only linked records (core_person_links.person_id not NULL) say anything about a person: each source's
-- records meet their links through links_of(source), which reads only that source's rows of the links
-- (ten million of them are contributions). Not sorted: every list orders its own rows.
-- The rows of facts_persons, declared in aidmatch.tables.catalog (rules/facts.py creates and fills it).
-- Parameters: $as_of DATE, $lookback_months, $min_working_age, $women_category (retirement category).
WITH
-- Paid 单位职工 / 灵活就业 contributions in the lookback months (城乡居民 says nothing about work).
-- (linked_si_contributions: the linked contributions with their person, found by their profile.)
contributions AS (
    SELECT
        c.person_id, c.contribution_type, c.period_month, c.employer_id, c.employer_name,
        coalesce(c.employer_name, c.employer_id) AS employer
    FROM linked_si_contributions AS c
    WHERE c.payment_status = '已实缴'
      AND c.contribution_type IN ('单位职工', '灵活就业')
      AND c.period_month >= date_trunc('month', $as_of::DATE) - to_months($lookback_months)
      AND c.period_month < date_trunc('month', $as_of::DATE)
),
work AS (
    SELECT
        person_id,
        bool_or(contribution_type = '单位职工') AS employed,
        -- the rows here are 单位职工 or 灵活就业: not employed means only 灵活就业
        NOT employed AS flexibly_employed,
        -- the months as YYYY-MM, formatted once per distinct month and person, not per contribution
        list_transform(
            list_sort(list_distinct(list(period_month) FILTER (contribution_type = '单位职工'))),
            m -> strftime(m, '%Y-%m')
        ) AS employment_months,
        list_sort(list_distinct(list(employer) FILTER (contribution_type = '单位职工'))) AS employers,
        list_transform(
            list_sort(list_distinct(list(period_month) FILTER (contribution_type = '灵活就业'))),
            m -> strftime(m, '%Y-%m')
        ) AS flexible_months,
        -- the latest paid 单位职工 month, and its employer: the smallest 单位编号 when several paid that month (one
        -- known by its 单位名称 alone after those with a number) — what 民政 is told (dibao_employment), and
        -- whether the job still paid in the last look-back month (households_at_risk)
        max(period_month) FILTER (contribution_type = '单位职工') AS last_employment_month,
        arg_min(
            {'id': employer_id, 'name': employer_name},
            (DATE '2999-12-31' - period_month, employer_id IS NULL, coalesce(employer_id, ''), coalesce(employer_name, ''))
        ) FILTER (contribution_type = '单位职工') AS latest_employer
    FROM contributions
    GROUP BY person_id
),
-- The person's current active 低保 / 低保边缘 record: the latest to start.
dibao AS (
    SELECT
        l.person_id, d.household_id, d.assistance_type, d.work_capacity, d.employment_status, d.relation,
        d.source_record
    FROM staged_dibao AS d
    JOIN links_of('dibao') AS l USING (source_record)
    WHERE d.assistance_status = '在保'
    QUALIFY row_number() OVER (
        PARTITION BY l.person_id ORDER BY d.start_date DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
    ) = 1
),
-- What any 低保 record of the person says, stopped ones included, except 在业 (only an active record's counts).
dibao_says AS (
    SELECT
        l.person_id,
        bool_or(d.assistance_status = '在保' AND d.employment_status = '在业') AS works_per_dibao,
        min(d.source_record) FILTER (d.employment_status = '在校学生') AS student_record,
        min(d.source_record) FILTER (d.work_capacity = '完全丧失劳动能力') AS no_work_capacity_record
    FROM staged_dibao AS d
    JOIN links_of('dibao') AS l USING (source_record)
    GROUP BY l.person_id
),
-- The person's current valid disability card (有效, 有效期至 not before D; a missing date trusts the status).
disability AS (
    SELECT l.person_id, d.card_no, d.disability_category, d.disability_grade, d.valid_until, d.source_record
    FROM staged_disability AS d
    JOIN links_of('disability') AS l USING (source_record)
    WHERE d.card_status = '有效' AND (d.valid_until IS NULL OR d.valid_until >= $as_of::DATE)
    QUALIFY row_number() OVER (
        PARTITION BY l.person_id ORDER BY d.issued_on DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
    ) = 1
),
registration AS (
    SELECT
        l.person_id,
        min(u.registered_on) AS registered_on,
        -- a blank 就业困难人员 is read as 否
        coalesce(bool_or(u.is_difficult), false) AS is_difficult,
        list_sort(list_distinct(flatten(list(u.difficulty_categories) FILTER (u.is_difficult))))
            AS difficulty_categories,
        arg_min(u.source_record, (coalesce(u.registered_on, DATE '9999-12-31'), u.source_record))
            AS registration_record,
        -- 认定日期: the earliest of the 就业困难人员 registrations; its record (else a 是 record without a date)
        min(u.recognized_on) FILTER (u.is_difficult) AS recognized_on,
        arg_min(u.source_record, (coalesce(u.recognized_on, DATE '9999-12-31'), u.source_record))
            FILTER (u.is_difficult) AS recognition_record
    FROM staged_unemployment AS u
    JOIN links_of('unemployment') AS l USING (source_record)
    GROUP BY l.person_id
),
si_status AS (
    SELECT
        l.person_id,
        bool_or(s.person_status = '离退休') AS retired,
        min(s.retired_on) FILTER (s.person_status = '离退休') AS retired_on,
        min(s.source_record) FILTER (s.person_status = '离退休') AS retired_record,
        bool_or(s.person_status = '死亡') AS deceased,
        min(s.died_on) FILTER (s.person_status = '死亡') AS died_on,
        min(s.source_record) FILTER (s.person_status = '死亡') AS deceased_record
    FROM staged_si_persons AS s
    JOIN links_of('si_persons') AS l USING (source_record)
    GROUP BY l.person_id
),
-- exact: every record of the person was linked by its exact valid ID (the linker's method exact_id).
links AS (
    SELECT person_id, CASE WHEN bool_and(method = 'exact_id') THEN 'exact' ELSE 'fuzzy' END AS match_confidence
    FROM core_person_links
    WHERE person_id IS NOT NULL
    GROUP BY person_id
),
persons AS (
    SELECT
        *,
        -- unknown sex: the men's (latest) date, so nobody leaves a roll early
        CASE sex WHEN '女' THEN $women_category ELSE 'men' END AS retirement_category,
        retirement_date(birth_date, retirement_category) AS retirement_date,
        date_sub('year', birth_date, $as_of::DATE) AS age
    FROM core_persons
)
SELECT
    p.person_id,
    p.name,
    p.sex,
    p.birth_date,
    p.sources,
    p.age,
    p.retirement_category,
    p.retirement_date,
    coalesce(p.age >= $min_working_age AND $as_of::DATE < p.retirement_date, false) AS working_age,
    format('出生日期 {}，法定退休日期 {}', p.birth_date, p.retirement_date) AS retirement_evidence,

    coalesce(w.employed, false) AS employed,
    coalesce(w.flexibly_employed, false) AS flexibly_employed,
    w.employment_months,
    w.employers,
    w.flexible_months,
    format('单位职工缴费（已实缴）{}，单位：{}', array_to_string(w.employment_months, ','), array_to_string(w.employers, '、'))
        AS employment_evidence,
    format('仅有灵活就业缴费（已实缴）{}', array_to_string(w.flexible_months, ',')) AS flexible_evidence,
    w.last_employment_month,
    w.latest_employer.id AS latest_employer_id,
    w.latest_employer.name AS latest_employer_name,

    dibao.person_id IS NOT NULL AS dibao_active,
    dibao.household_id AS dibao_household_id,
    dibao.assistance_type AS dibao_type,
    dibao.work_capacity,
    dibao.employment_status,
    dibao.relation AS dibao_relation,
    dibao.source_record AS dibao_record,
    format(
        '{} 户编号 {} 在保，劳动能力 {}，就业状况 {} [{}]',
        coalesce(dibao.assistance_type, '空'), coalesce(dibao.household_id, '空'), coalesce(dibao.work_capacity, '空'),
        coalesce(dibao.employment_status, '空'), dibao.source_record
    ) AS dibao_evidence,
    coalesce(dibao_says.works_per_dibao, false) AS works_per_dibao,
    dibao_says.student_record IS NOT NULL AS student,
    format('低保记录 就业状况 在校学生 [{}]', dibao_says.student_record) AS student_evidence,
    dibao_says.no_work_capacity_record IS NOT NULL AS no_work_capacity,
    format('低保记录 劳动能力 完全丧失劳动能力 [{}]', dibao_says.no_work_capacity_record) AS no_work_capacity_evidence,

    disability.person_id IS NOT NULL AS disabled,
    disability.disability_grade,
    disability.disability_category,
    disability.source_record AS disability_record,
    format(
        '残疾人证 {} {} {} 有效期至 {} [{}]',
        coalesce(disability.card_no, '空'), coalesce(disability.disability_category, '类别空'),
        coalesce(['一级', '二级', '三级', '四级'][disability.disability_grade], '等级空'),
        coalesce(disability.valid_until::VARCHAR, '空'), disability.source_record
    ) AS disability_evidence,

    registration.person_id IS NOT NULL AS registered,
    registration.registered_on,
    registration.registration_record,
    coalesce(registration.is_difficult, false) AS is_difficult,
    registration.difficulty_categories,
    format('失业登记日期 {} [{}]', coalesce(registration.registered_on::VARCHAR, '空'), registration.registration_record)
        AS registration_evidence,
    registration.recognized_on,
    registration.recognition_record,

    coalesce(si_status.retired, false) AS retired,
    si_status.retired_on,
    format('社保个人状态 离退休，离退休日期 {} [{}]', coalesce(si_status.retired_on::VARCHAR, '空'), si_status.retired_record)
        AS retired_evidence,
    coalesce(si_status.deceased, false) AS deceased,
    format('社保个人状态 死亡，死亡日期 {} [{}]', coalesce(si_status.died_on::VARCHAR, '空'), si_status.deceased_record)
        AS deceased_evidence,

    coalesce(w.person_id IS NOT NULL OR dibao_says.works_per_dibao, false) AS working,

    links.match_confidence
FROM persons AS p
LEFT JOIN work AS w USING (person_id)
LEFT JOIN dibao USING (person_id)
LEFT JOIN dibao_says USING (person_id)
LEFT JOIN disability USING (person_id)
LEFT JOIN registration USING (person_id)
LEFT JOIN si_status USING (person_id)
LEFT JOIN links USING (person_id)
