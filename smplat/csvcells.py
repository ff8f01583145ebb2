"""CSV cells a spreadsheet will not run: OWASP's CSV-injection advice, in Python and in SQL.

Every CSV the site writes (the experiment-events download, the onboarding page's CSV, the
offer-events export) neutralises text that starts like a formula by prefixing it with ``'``;
the SQL form does the same inside PostgreSQL when it builds CSV lines itself. Both read
``CSV_FORMULA_PREFIXES``, so they cannot drift apart (tests/exports/test_encoded_rows.py).
"""

from __future__ import annotations

# OWASP lists tab, carriage return and line feed with the formula characters.
CSV_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
# Their code points: ascii() of a cell is cheaper in SQL than comparing its first character.
_PREFIX_CODES = ", ".join(str(ord(prefix)) for prefix in CSV_FORMULA_PREFIXES)


def csv_safe(value: object) -> object:
    """Neutralise a cell a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(CSV_FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_safe_sql(column: str) -> str:
    """``csv_safe`` of a text column, as a PostgreSQL expression."""
    return f"CASE WHEN ascii({column}) IN ({_PREFIX_CODES}) THEN '''' || {column} ELSE {column} END"
