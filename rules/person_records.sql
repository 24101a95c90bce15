-- facts_person_records: one row per person of core_persons, with what the person's linked records say
-- whatever the as-of date — the retirement date, the 低保 record in force, the registration, the 社保 status,
-- how the person was linked — and, beside each, the evidence text a case worker checks it by. A night
-- whose linked and staged tables are an earlier night's takes this table from that night (rules/facts.py);
-- facts_persons (persons.sql) adds what depends on the date: age, contributions, the disability card.
-- Only linked records (core_person_links.person_id not NULL) say anything about a person: each source's
-- records meet their links through links_of(source), which reads only that source's rows of the links
-- (ten million of them are contributions). Not sorted.
-- The rows of facts_person_records, declared in aidmatch.tables.catalog.
-- Parameters: $women_category (the retirement category applied to every woman).
WITH
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
-- Only a 离退休 or 死亡 record says anything here (the others leave both false): ten times fewer persons
-- to hold the earliest records of than every one with a 社保 record.
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
    WHERE s.person_status IN ('离退休', '死亡')
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
        retirement_date(birth_date, retirement_category) AS retirement_date
    FROM core_persons
)
SELECT
    p.person_id,
    p.name,
    p.sex,
    p.birth_date,
    p.sources,
    p.retirement_category,
    p.retirement_date,
    format('出生日期 {}，法定退休日期 {}', p.birth_date, p.retirement_date) AS retirement_evidence,

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

    links.match_confidence
FROM persons AS p
LEFT JOIN dibao USING (person_id)
LEFT JOIN dibao_says USING (person_id)
LEFT JOIN registration USING (person_id)
LEFT JOIN si_status USING (person_id)
LEFT JOIN links USING (person_id)
