-- facts_person_employers: per recognized person (就业困难人员: facts_person_records.is_difficult) and employer
-- (单位编号, else 单位名称) that paid them 单位职工 contributions (已实缴) in the look-back months (the
-- $lookback_months calendar months before the as-of date's month): the employer's first paid month for the
-- person in the whole extract, and the look-back months it paid — what the 单位吸纳 subsidy of
-- out_entitlements (entitlements.sql) asks of the contributions. It depends on the as-of date's month alone,
-- like facts_person_work: the nights of a month whose linked contributions and recognized persons are
-- unchanged take it from the first of them (rules/facts.py), rather than reading the contributions again.
-- (linked_si_contributions: the linked contributions with their person, found by their profile.)
-- The rows of facts_person_employers, declared in aidmatch.tables.catalog.
-- Parameters: $as_of DATE, $lookback_months.
SELECT
    c.person_id,
    coalesce(c.employer_id, c.employer_name) AS employer,
    any_value(c.employer_id) AS employer_id,
    arg_max(c.employer_name, c.period_month) FILTER (c.employer_name IS NOT NULL) AS employer_name,
    min(c.period_month) AS first_month,
    list_sort(list_distinct(
        list(strftime(c.period_month, '%Y-%m')) FILTER (
            c.period_month >= date_trunc('month', $as_of::DATE) - to_months($lookback_months)
            AND c.period_month < date_trunc('month', $as_of::DATE)
        )
    )) AS lookback_months
FROM linked_si_contributions AS c
WHERE c.payment_status = '已实缴' AND c.contribution_type = '单位职工' AND c.period_month IS NOT NULL
  AND c.person_id IN (SELECT person_id FROM facts_person_records WHERE is_difficult)
GROUP BY c.person_id, coalesce(c.employer_id, c.employer_name)
HAVING len(lookback_months) > 0
