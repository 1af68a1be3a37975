"""lz4 compression for large JSON columns on PostgreSQL, as a migration operation.

PostgreSQL compresses a value over about 2 kB before storing it out of line (TOAST), with pglz
unless told otherwise. A signed key map (hundreds of entries, ~200 kB) or a staff member's
access map (an entry per lock) is such a value: writing 100 key maps of 522 entries took
8.6 ms each with pglz and 4.3 ms with lz4 on the bench machine (PostgreSQL 15, alternated
runs), for about the same size on disk (docs/PERFORMANCE.md, "Key maps"). lz4 exists from
PostgreSQL 14 when the server was built with it (Debian's is); elsewhere, and on SQLite, the
operation does nothing. Only values written afterwards are compressed with it.
"""

from django.db import migrations


def _lz4_available(connection) -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        row = cursor.fetchone()
    return row is not None and "lz4" in (row[0] or [])


def lz4_compression(table: str, column: str) -> migrations.RunPython:
    """Compress `table.column` with lz4 on PostgreSQL (reversed: back to pglz)."""

    def set_method(method: str):
        def run(apps, schema_editor):
            if _lz4_available(schema_editor.connection):
                quote = schema_editor.quote_name
                schema_editor.execute(
                    f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} SET COMPRESSION {method}"
                )

        return run

    return migrations.RunPython(set_method("lz4"), set_method("pglz"))
