-- out_removals (应退出名单), SPEC section 4 item 2: one row per linked registration × roll that has a reason
-- to leave it. The unemployment roll: EMPLOYED, FLEXIBLY_EMPLOYED, RETIRED, RETIREMENT_AGE, DECEASED,
-- DUPLICATE (every registration of a person but the earliest; ties by file, sheet, row), NO_WORK_CAPACITY.
-- The employment_difficulty roll (registrations with 就业困难人员 = 是) has one reason of its own, as SPEC
-- lists it: BASIS_ENDED (every listed category is 低保 or 残疾, and none of them holds:
-- no active 低保 record if 低保 is listed, no valid card if 残疾 is). A registration that leaves the register
-- for another reason is listed once, on the unemployment roll: the case system closes the registration and
-- with it the 就业困难人员 status, so a second row would be the same work twice. NO_WORK_CAPACITY: any 低保 record, stopped
-- ones too, says 完全丧失劳动能力. Unlinked registrations say nothing and are left out.
-- FLEXIBLY_EMPLOYED says so when out_entitlements owes the same person the flexible subsidy (build it first).
-- Then where the person lives and how to reach them (facts_locations), the evidence ending with where
-- those came from (LOCATION).
-- The rows of out_removals, declared in aidmatch.tables.catalog (rules/lists.py creates and fills it).
-- Reads staged_unemployment through links_of, facts_persons, out_entitlements and facts_locations.
-- Parameters: $as_of, $high_confidence_reasons.
WITH
registrations AS (
    SELECT
        l.person_id,
        u.source_record,
        coalesce(u.is_difficult, false) AS is_difficult,
        u.difficulty_categories,
        row_number() OVER earliest_first AS registration_order,
        first_value(u.source_record) OVER earliest_first AS earliest_record,
        first_value(u.registered_on) OVER earliest_first AS earliest_registered_on
    FROM staged_unemployment AS u
    JOIN links_of('unemployment') AS l USING (source_record)
    WINDOW earliest_first AS (
        PARTITION BY l.person_id ORDER BY u.registered_on NULLS LAST, u.source_file, u.source_sheet, u.source_row
    )
),
-- A 就业困难人员 who works flexibly is owed the flexible subsidy although the registration may end.
flexible_subsidy AS (
    SELECT
        person_id,
        '同一人应享受就业困难人员社保补贴（灵活就业）' || coalesce('，补贴期限至 ' || subsidy_until::VARCHAR, '')
            || '：失业登记可以终止，补贴仍应享受' AS note
    FROM out_entitlements
    WHERE entitlement = 'SI_SUBSIDY_FLEXIBLE'
),
register_reasons AS (
    SELECT
        r.*,
        f.name,
        list_sort(list_filter([
            CASE WHEN f.employed THEN {'code': 'EMPLOYED', 'evidence': f.employment_evidence} END,
            CASE
                WHEN f.flexibly_employed
                    THEN {'code': 'FLEXIBLY_EMPLOYED', 'evidence': f.flexible_evidence || coalesce('；' || s.note, '')}
            END,
            CASE WHEN f.retired THEN {'code': 'RETIRED', 'evidence': f.retired_evidence} END,
            CASE
                WHEN NOT f.retired AND $as_of::DATE >= f.retirement_date
                    THEN {'code': 'RETIREMENT_AGE', 'evidence': f.retirement_evidence || '，未见离退休记录'}
            END,
            CASE WHEN f.deceased THEN {'code': 'DECEASED', 'evidence': f.deceased_evidence} END,
            CASE
                WHEN r.registration_order > 1 THEN {
                    'code': 'DUPLICATE',
                    'evidence': format(
                        '同一人最早的登记 {} [{}]', coalesce(r.earliest_registered_on::VARCHAR, '日期空'), r.earliest_record
                    )
                }
            END,
            CASE WHEN f.no_work_capacity THEN {'code': 'NO_WORK_CAPACITY', 'evidence': f.no_work_capacity_evidence} END
        ], lambda x: x IS NOT NULL)) AS reasons,
        CASE
            WHEN len(r.difficulty_categories) > 0 AND list_has_all(['低保', '残疾'], r.difficulty_categories)
                AND NOT (list_contains(r.difficulty_categories, '低保') AND f.dibao_active)
                AND NOT (list_contains(r.difficulty_categories, '残疾') AND f.disabled)
                THEN {
                    'code': 'BASIS_ENDED',
                    'evidence': concat_ws(
                        '；',
                        '就业困难人员类别 ' || array_to_string(r.difficulty_categories, '、'),
                        CASE WHEN list_contains(r.difficulty_categories, '低保') THEN '无在保低保记录' END,
                        CASE WHEN list_contains(r.difficulty_categories, '残疾') THEN '无有效残疾人证' END
                    )
                }
        END AS basis_ended
    FROM registrations AS r
    JOIN facts_persons AS f USING (person_id)
    LEFT JOIN flexible_subsidy AS s USING (person_id)
),
rolls AS (
    SELECT person_id, name, 'unemployment' AS roll, reasons, source_record
    FROM register_reasons
    UNION ALL
    SELECT person_id, name, 'employment_difficulty' AS roll,
        list_filter([basis_ended], lambda x: x IS NOT NULL), source_record
    FROM register_reasons
    WHERE is_difficult
)
SELECT
    r.person_id,
    r.name,
    r.roll,
    array_to_string(list_transform(r.reasons, lambda x: x.code), ';') AS reasons,
    CASE WHEN list_has_any(list_transform(r.reasons, lambda x: x.code), $high_confidence_reasons) THEN 'high' ELSE 'review' END
        AS confidence,
    r.source_record,
    concat_ws(
        ' | ', array_to_string(list_transform(r.reasons, lambda x: x.code || ': ' || x.evidence), ' | '),
        'LOCATION: ' || loc.evidence
    ) AS evidence,
    loc.district,
    loc.street,
    loc.community,
    loc.phone,
    loc.address
FROM rolls AS r
LEFT JOIN facts_locations AS loc USING (person_id)
WHERE len(r.reasons) > 0
ORDER BY r.person_id, r.source_record, r.roll
