-- facts_persons: one row per person of core_persons, with the facts of SPEC section 4 as of $as_of and,
-- beside each fact, the evidence text a case worker needs to check it (record, months, dates): what the
-- person's records say whatever the date (facts_person_records), the look-back's contributions of the as-of
-- month (facts_person_work), and what only the date decides — age, working age, the card valid at D.
-- Only linked records say anything about a person (person_records.sql). Not sorted: every list orders
-- its own rows.
-- The rows of facts_persons, declared in aidmatch.tables.catalog (rules/facts.py creates and fills it).
-- Parameters: $as_of DATE, $min_working_age. A night whose records are the night before's keeps that
-- night's rows and makes again only those of persons_moved.sql: a new use of $as_of here belongs there too.
WITH
-- The person's current valid disability card (有效, 有效期至 not before D; a missing date trusts the status).
disability AS (
    SELECT l.person_id, d.card_no, d.disability_category, d.disability_grade, d.valid_until, d.source_record
    FROM staged_disability AS d
    JOIN links_of('disability') AS l USING (source_record)
    WHERE d.card_status = '有效' AND (d.valid_until IS NULL OR d.valid_until >= $as_of::DATE)
    QUALIFY row_number() OVER (
        PARTITION BY l.person_id ORDER BY d.issued_on DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
    ) = 1
)
SELECT
    r.person_id,
    r.name,
    r.sex,
    r.birth_date,
    r.sources,
    date_sub('year', r.birth_date, $as_of::DATE) AS age,
    r.retirement_category,
    r.retirement_date,
    coalesce(age >= $min_working_age AND $as_of::DATE < r.retirement_date, false) AS working_age,
    r.retirement_evidence,

    coalesce(w.employed, false) AS employed,
    coalesce(w.flexibly_employed, false) AS flexibly_employed,
    w.employment_months,
    w.employers,
    w.flexible_months,
    format('单位职工缴费（已实缴）{}，单位：{}', array_to_string(w.employment_months, ','), array_to_string(w.employers, '、'))
        AS employment_evidence,
    format('仅有灵活就业缴费（已实缴）{}', array_to_string(w.flexible_months, ',')) AS flexible_evidence,
    w.last_employment_month,
    w.latest_employer_id,
    w.latest_employer_name,

    r.dibao_active,
    r.dibao_household_id,
    r.dibao_type,
    r.work_capacity,
    r.employment_status,
    r.dibao_relation,
    r.dibao_record,
    r.dibao_evidence,
    r.works_per_dibao,
    r.student,
    r.student_evidence,
    r.no_work_capacity,
    r.no_work_capacity_evidence,

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

    r.registered,
    r.registered_on,
    r.registration_record,
    r.is_difficult,
    r.difficulty_categories,
    r.registration_evidence,
    r.recognized_on,
    r.recognition_record,

    r.retired,
    r.retired_on,
    r.retired_evidence,
    r.deceased,
    r.deceased_evidence,

    coalesce(w.person_id IS NOT NULL OR r.works_per_dibao, false) AS working,

    r.match_confidence
FROM facts_person_records AS r
LEFT JOIN facts_person_work AS w USING (person_id)
LEFT JOIN disability USING (person_id)
