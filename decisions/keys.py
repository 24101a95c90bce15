"""The content key of a record: what a decision names it by, so that it survives rows moving between extracts.

A record is named by its source and its identity values as staging normalized them — the citizen ID (or
the digits Excel kept), the name and its bracketed note, sex and birth date — never by its file or row.
The key is the first 16 hex digits of their MD5: short enough to sit in a form's column, and a row's
values are still shown beside it for people. Two records with the same identity values in one source
(an exact copy of a row, say) share a key, and a decision about one is a decision about both.
"""

import duckdb

IDENTITY = ("source", "id_norm", "id_prefix", "name", "name_alias", "sex", "birth_date")
KEY_LENGTH = 16

RECORD_KEY_MACRO = f"""
CREATE OR REPLACE TEMP MACRO record_key(source, id_norm, id_prefix, name, name_alias, sex, birth_date) AS
    left(md5(concat_ws('|', source, coalesce(id_norm, ''), coalesce(id_prefix, ''), coalesce(name, ''),
                       coalesce(name_alias, ''), coalesce(sex, ''), coalesce(birth_date::VARCHAR, ''))),
         {KEY_LENGTH});
"""


def record_key_sql(table: str = "") -> str:
    """SQL: the key of a row of a staged table or a link profile (both have the identity columns),
    their columns qualified by `table` when given."""
    prefix = f"{table}." if table else ""
    return f"record_key({', '.join(prefix + column for column in IDENTITY)})"


def create_record_key_macro(con: duckdb.DuckDBPyConnection) -> None:
    """Define `record_key(...)` on this connection."""
    con.execute(RECORD_KEY_MACRO)
