-- facts_person_work: one row per person with a paid 单位职工 or 灵活就业 contribution in the look-back months
-- (the $lookback_months calendar months before the as-of date's month; 城乡居民 says nothing about work): the
-- months and the employers paid. It depends on the as-of date's month alone: the nights of a month whose
-- linked contributions are unchanged take it from the first of them (rules/facts.py).
-- (linked_si_contributions: the linked contributions with their person, found by their profile.)
-- Built in parts, persons by the hash of their id (rules/facts.py): its lists per person are state DuckDB
-- does not spill, and a province's ten million persons' did not fit in 3 GB at once. A city is one part.
-- `$parts` and `$part` are cast to the hash's type: untyped, they made the modulo HUGEINT, 40 times slower
-- (9.5 of a province part's 26 s).
-- The rows of facts_person_work, declared in aidmatch.tables.catalog.
-- Parameters: $as_of DATE, $lookback_months, $part of $parts.
WITH
contributions AS (
    SELECT
        c.person_id, c.contribution_type, c.period_month, c.employer_id, c.employer_name,
        coalesce(c.employer_name, c.employer_id) AS employer
    FROM linked_si_contributions AS c
    WHERE c.payment_status = '已实缴'
      AND c.contribution_type IN ('单位职工', '灵活就业')
      AND c.period_month >= date_trunc('month', $as_of::DATE) - to_months($lookback_months)
      AND c.period_month < date_trunc('month', $as_of::DATE)
      AND hash(c.person_id) % $parts::UBIGINT = $part::UBIGINT
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
)
SELECT
    person_id,
    employed,
    flexibly_employed,
    employment_months,
    employers,
    flexible_months,
    last_employment_month,
    latest_employer.id AS latest_employer_id,
    latest_employer.name AS latest_employer_name
FROM work
