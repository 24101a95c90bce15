-- The address parser of locations.sql (temporary macros; rules/facts.py creates them first).
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
