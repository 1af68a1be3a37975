"""Large JSON columns are compressed with lz4 on PostgreSQL (apps.core.toast)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

LZ4_COLUMNS = [("locks_signedkeymap", "payload"), ("access_useraccessmap", "entries")]


@pytest.mark.parametrize(("table", "column"), LZ4_COLUMNS)
def test_large_json_columns_use_lz4_on_postgresql(table, column):
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL storage setting (DATABASE_URL=postgres://...; .ci/run phase 2)")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute WHERE attrelid = %s::regclass AND attname = %s", [table, column]
        )
        assert cursor.fetchone() == ("l",)
