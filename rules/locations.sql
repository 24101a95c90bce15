-- facts_locations: where each person lives and how to reach them, for the street and community offices
-- that work the lists door to door (SPEC section 5, "点对点"): one row per person some source places,
-- with district (区县), street (街道), community (社区), phone and address, each the best value the
-- sources hold, and `evidence` saying which record (and which column) each came from. Any list joins it.
--
-- Best value, field by field: the sources in the order of SPEC section 5 — 登记失业 (where the person
-- lives now: 居住地址, 所属街道, 所属社区, 联系电话), 低保 (所属区县, 所属街道), 残疾人 (户籍地址) — and within
-- a source its most recent record (latest registration; an in-force 低保 record before a stopped one; a
-- valid card before others). Within one record a stated column comes before what its address spells
-- out: a Chinese address names its 区/县 (or county-level 市), 街道/镇/乡 and 社区/村 in that order, so a
-- record without a 所属区县 column still places its person when the address does.
-- The rows of facts_locations, declared in aidmatch.tables.catalog (rules/facts.py creates and fills it).
-- Reads the staged tables through links_of(source) and the macros of address_parts.sql (facts.py); an address
-- is parsed once its record met its link: a night that makes one person's rows again parses theirs alone.
-- No parameters.
WITH
-- Each record's candidate values: field 1 district (区县), 2 street (街道), 3 community (社区), 4 phone (电话),
-- 5 address (地址); parsed: read off the record's address, not a column of its own.
records AS (
    SELECT
        u.person_id, u.source_record, 1 AS source_order,
        row_number() OVER (
            PARTITION BY u.person_id ORDER BY u.registered_on DESC NULLS LAST, u.source_file, u.source_sheet, u.source_row
        ) AS record_order,
        [
            {'field': 1, 'value': address_district(u.parts), 'parsed': true},
            {'field': 2, 'value': u.street, 'parsed': false},
            {'field': 2, 'value': nullif(u.parts.street, ''), 'parsed': true},
            {'field': 3, 'value': u.community, 'parsed': false},
            {'field': 3, 'value': nullif(u.parts.community, ''), 'parsed': true},
            {'field': 4, 'value': u.phone, 'parsed': false},
            {'field': 5, 'value': u.address, 'parsed': false}
        ] AS found
    FROM (
        SELECT u.*, l.person_id, address_parts(u.address) AS parts
        FROM staged_unemployment AS u JOIN links_of('unemployment') AS l USING (source_record)
    ) AS u
    UNION ALL
    SELECT
        l.person_id, d.source_record, 2,
        row_number() OVER (
            PARTITION BY l.person_id
            ORDER BY d.assistance_status = '在保' DESC, d.start_date DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
        ),
        [
            {'field': 1, 'value': d.district, 'parsed': false},
            {'field': 2, 'value': d.street, 'parsed': false}
        ]
    FROM staged_dibao AS d
    JOIN links_of('dibao') AS l USING (source_record)
    UNION ALL
    SELECT
        d.person_id, d.source_record, 3,
        row_number() OVER (
            PARTITION BY d.person_id
            ORDER BY d.card_status = '有效' DESC, d.issued_on DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
        ),
        [
            {'field': 1, 'value': address_district(d.parts), 'parsed': true},
            {'field': 2, 'value': nullif(d.parts.street, ''), 'parsed': true},
            {'field': 3, 'value': nullif(d.parts.community, ''), 'parsed': true},
            {'field': 5, 'value': d.address, 'parsed': false}
        ]
    FROM (
        SELECT d.*, l.person_id, address_parts(d.address) AS parts
        FROM staged_disability AS d JOIN links_of('disability') AS l USING (source_record)
    ) AS d
),
candidates AS (
    SELECT person_id, source_order, record_order, source_record, found.field, found.value, found.parsed
    FROM (SELECT person_id, source_order, record_order, source_record, unnest(found) AS found FROM records)
    WHERE found.value IS NOT NULL
),
-- A record's stated column before what its address spells out.
best AS (
    SELECT
        person_id,
        field,
        arg_min({'value': value, 'parsed': parsed, 'record': source_record}, (source_order, record_order, parsed))
            AS chosen
    FROM candidates
    GROUP BY person_id, field
),
-- One phrase per record used: "街道、社区、电话、地址取自[unemployment/x.csv:3]，区县据其地址" (a value read
-- off the record's address says so). The labels in field order by sorting each record's few {field, label}
-- (an ordered string_agg sorts per group: 2 of the table's 4.6 CPU-seconds at a million persons).
origins AS (
    SELECT
        person_id,
        first_field,
        CASE
            WHEN stated IS NULL THEN parsed || '据[' || record || ']的地址'
            ELSE stated || '取自[' || record || ']' || coalesce('，' || parsed || '据其地址', '')
        END AS phrase
    FROM (
        SELECT
            person_id,
            chosen.record AS record,
            min(field) AS first_field,
            array_to_string(
                list_transform(list_sort(list({'field': field, 'label': label}) FILTER (NOT chosen.parsed)), f -> f.label),
                '、'
            ) AS stated,
            array_to_string(
                list_transform(list_sort(list({'field': field, 'label': label}) FILTER (chosen.parsed)), f -> f.label),
                '、'
            ) AS parsed
        FROM (SELECT *, ['区县', '街道', '社区', '电话', '地址'][field] AS label FROM best)
        GROUP BY person_id, chosen.record
    )
),
chosen_values AS (
    SELECT
        person_id,
        max(chosen.value) FILTER (field = 1) AS district,
        max(chosen.value) FILTER (field = 2) AS street,
        max(chosen.value) FILTER (field = 3) AS community,
        max(chosen.value) FILTER (field = 4) AS phone,
        max(chosen.value) FILTER (field = 5) AS address
    FROM best
    GROUP BY person_id
)
SELECT v.*, o.evidence
FROM chosen_values AS v
-- each record's phrase in the order of its first field (a person's records each give other fields)
JOIN (
    SELECT person_id, array_to_string(list_transform(list_sort(list({'first': first_field, 'phrase': phrase})), o -> o.phrase), '；')
        AS evidence
    FROM origins GROUP BY person_id
) AS o
    USING (person_id)
