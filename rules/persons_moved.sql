-- The persons whose row of facts_persons differs between the as-of dates $then and $as_of when everything
-- else it is made from is the same (the same facts_person_records and facts_person_work, the same linked
-- records): what persons.sql decides by the date alone. That is, every use of $as_of there:
--   age                 a birthday between the two dates (date_sub counts whole years, 29 February too);
--   working_age         that age, or the retirement date between the two;
--   the card valid at D a disability card's 有效期至 between the two (any card of the person: which of
--                       them is the valid one may change).
-- Run on an unchanged night (rules/facts.py, update_night_facts); tests/test_rules.py builds
-- facts_persons both ways across a year of dates. Parameters: $then DATE, $as_of DATE.
SELECT person_id
FROM facts_person_records
WHERE date_sub('year', birth_date, $then::DATE) IS DISTINCT FROM date_sub('year', birth_date, $as_of::DATE)
   OR ($then::DATE < retirement_date) IS DISTINCT FROM ($as_of::DATE < retirement_date)
UNION
SELECT l.person_id
FROM staged_disability AS d
JOIN links_of('disability') AS l USING (source_record)
WHERE (d.valid_until >= $then::DATE) IS DISTINCT FROM (d.valid_until >= $as_of::DATE)
