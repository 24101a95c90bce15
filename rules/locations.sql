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
-- Reads the staged tables through links_of(source) (facts.py). No parameters.
-- address_parts(address): {city, district, street, community} read off an address in that order, each ''
-- when absent: "浙江省嘉兴市海宁市许村镇许巷村3组" gives 嘉兴市, 海宁市, 许村镇, 许巷村. A level must follow
-- the one before it (so the 乡 ending 桐乡市 is no 乡, nor a compound's 新村 a 村), and a district name has
-- none of 街镇乡村社路号楼 after its first character (镇海区 is one; 虎门镇阳光小区 is not). address_district(parts)
-- falls back to the city when the address names no 区/县 ("桐乡市梧桐街道…": a county-level city).
CREATE OR REPLACE TEMP MACRO address_parts(address) AS regexp_extract(
    address,
    '^(?:[^省]{2,8}?(?:省|自治区))?'
        || '(?:([^市区县旗]{2,9}?(?:市|州|盟|地区)))?'
        || '(?:([^省市区县旗][^省市区县旗街镇乡村社路号楼]{0,6}?(?:区|县|旗|市)))?'
        || '(?:([^省市区县旗州盟]{1,8}?(?:街道|镇|乡)))?'
        || '(?:([^省市区县旗路号楼]{1,10}?(?:社区|村)))?',
    ['city', 'district', 'street', 'community']
);
CREATE OR REPLACE TEMP MACRO address_district(parts) AS
    coalesce(nullif(parts.district, ''), CASE WHEN parts.city LIKE '%市' THEN parts.city END);

CREATE OR REPLACE TABLE facts_locations AS
WITH
records AS (
    SELECT
        l.person_id, u.source_record, 1 AS source_order,
        row_number() OVER (
            PARTITION BY l.person_id ORDER BY u.registered_on DESC NULLS LAST, u.source_file, u.source_sheet, u.source_row
        ) AS record_order,
        [
            {'field': 'district', 'value': address_district(u.parts), 'from_column': '居住地址'},
            {'field': 'street', 'value': u.street, 'from_column': '所属街道'},
            {'field': 'street', 'value': nullif(u.parts.street, ''), 'from_column': '居住地址'},
            {'field': 'community', 'value': u.community, 'from_column': '所属社区'},
            {'field': 'community', 'value': nullif(u.parts.community, ''), 'from_column': '居住地址'},
            {'field': 'phone', 'value': u.phone, 'from_column': '联系电话'},
            {'field': 'address', 'value': u.address, 'from_column': '居住地址'}
        ] AS found
    FROM (SELECT *, address_parts(address) AS parts FROM staged_unemployment) AS u
    JOIN links_of('unemployment') AS l USING (source_record)
    UNION ALL
    SELECT
        l.person_id, d.source_record, 2,
        row_number() OVER (
            PARTITION BY l.person_id
            ORDER BY d.assistance_status = '在保' DESC, d.start_date DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
        ),
        [
            {'field': 'district', 'value': d.district, 'from_column': '所属区县'},
            {'field': 'street', 'value': d.street, 'from_column': '所属街道'}
        ]
    FROM staged_dibao AS d
    JOIN links_of('dibao') AS l USING (source_record)
    UNION ALL
    SELECT
        l.person_id, d.source_record, 3,
        row_number() OVER (
            PARTITION BY l.person_id
            ORDER BY d.card_status = '有效' DESC, d.issued_on DESC NULLS LAST, d.source_file, d.source_sheet, d.source_row
        ),
        [
            {'field': 'district', 'value': address_district(d.parts), 'from_column': '户籍地址'},
            {'field': 'street', 'value': nullif(d.parts.street, ''), 'from_column': '户籍地址'},
            {'field': 'community', 'value': nullif(d.parts.community, ''), 'from_column': '户籍地址'},
            {'field': 'address', 'value': d.address, 'from_column': '户籍地址'}
        ]
    FROM (SELECT *, address_parts(address) AS parts FROM staged_disability) AS d
    JOIN links_of('disability') AS l USING (source_record)
),
candidates AS (
    SELECT person_id, source_order, record_order, source_record, found.field, found.value, found.from_column, place
    FROM (
        SELECT person_id, source_order, record_order, source_record, unnest(found) AS found,
            unnest(generate_series(1, len(found))) AS place
        FROM records
    )
    WHERE found.value IS NOT NULL
),
best AS (
    SELECT
        person_id,
        field,
        arg_min({'value': value, 'from_column': from_column, 'record': source_record},
            (source_order, record_order, place)) AS chosen
    FROM candidates
    GROUP BY person_id, field
),
-- One phrase per record used: "街道、社区、电话、地址取自[unemployment/x.csv:3]，区县据其地址" (a value read
-- off the record's address says so).
origins AS (
    SELECT
        person_id,
        min(field_order) AS first_field,
        CASE
            WHEN count(*) FILTER (NOT parsed) = 0
                THEN string_agg(label, '、' ORDER BY field_order) || '据[' || chosen.record || ']的地址'
            ELSE string_agg(label, '、' ORDER BY field_order) FILTER (NOT parsed) || '取自[' || chosen.record || ']'
                || coalesce('，' || string_agg(label, '、' ORDER BY field_order) FILTER (parsed) || '据其地址', '')
        END AS phrase
    FROM (
        SELECT
            *,
            list_position(['district', 'street', 'community', 'phone', 'address'], field) AS field_order,
            ['区县', '街道', '社区', '电话', '地址'][field_order] AS label,
            field <> 'address' AND chosen.from_column LIKE '%地址' AS parsed
        FROM best
    )
    GROUP BY person_id, chosen.record
),
chosen_values AS (
    SELECT
        person_id,
        max(chosen.value) FILTER (field = 'district') AS district,
        max(chosen.value) FILTER (field = 'street') AS street,
        max(chosen.value) FILTER (field = 'community') AS community,
        max(chosen.value) FILTER (field = 'phone') AS phone,
        max(chosen.value) FILTER (field = 'address') AS address
    FROM best
    GROUP BY person_id
)
SELECT v.*, o.evidence
FROM chosen_values AS v
JOIN (SELECT person_id, string_agg(phrase, '；' ORDER BY first_field) AS evidence FROM origins GROUP BY person_id) AS o
    USING (person_id)
