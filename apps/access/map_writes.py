"""The user side's writes of a derived-access refresh (apps.access.derive): people's access
maps, inserted or overwritten by (user, property)."""

from django.db import connection
from django.utils import timezone

from apps.access.models import UserAccessMap

# Maps per write from which PostgreSQL takes them by COPY into a temporary table and one
# INSERT ... SELECT: four statements, whatever the count. Below it, one upsert per map in a
# pipeline costs fewer round trips (a membership change writes one map).
COPY_FROM = 100

_TABLE = UserAccessMap._meta.db_table
_COLUMNS = "user_id, property_id, entries, version, digest, computed_at"
_ON_CONFLICT = (
    "ON CONFLICT (user_id, property_id) DO UPDATE SET entries = EXCLUDED.entries, "
    "version = EXCLUDED.version, digest = EXCLUDED.digest, computed_at = EXCLUDED.computed_at"
)


class MapWrites:
    """Access maps held until `flush`, then written in one go: their entries arrive as the JSON
    text `compute.UserSide.entries_json` made (each entry encoded once per refresh), so no
    model instance, JSONField encoding or per-parameter quoting is spent on them. A structural
    change on the 10k campus writes 9,590 maps (docs/PERFORMANCE.md)."""

    def __init__(self, property_id):
        self.property_id = property_id
        self.rows: list[tuple] = []  # (user id, entries JSON, version, digest)

    def add(self, user_id: str, *, entries_json: str, version: int, digest: str) -> None:
        self.rows.append((user_id, entries_json, version, digest))

    def flush(self) -> None:
        if not self.rows:
            return
        if connection.vendor == "postgresql" and len(self.rows) >= COPY_FROM:
            self._copy()
        else:
            self._upsert()
        self.rows = []

    def _upsert(self) -> None:
        """One INSERT ... ON CONFLICT per map, sent together (executemany)."""
        field = UserAccessMap._meta.get_field
        prep_id = field("user_id").get_db_prep_value
        property_id = prep_id(self.property_id, connection)
        now = field("computed_at").get_db_prep_value(timezone.now(), connection)
        entries = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        sql = (
            f"INSERT INTO {connection.ops.quote_name(_TABLE)} ({_COLUMNS}) "  # noqa: S608 - the model's own table
            f"VALUES (%s, %s, {entries}, %s, %s, %s) {_ON_CONFLICT}"
        )
        with connection.cursor() as cursor:
            cursor.executemany(
                sql,
                [
                    (prep_id(user_id, connection), property_id, text, version, digest, now)
                    for user_id, text, version, digest in self.rows
                ],
            )

    def _copy(self) -> None:
        """COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT (PostgreSQL)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE access_map_writes "
                "(user_id uuid, entries jsonb, version integer, digest varchar(64)) ON COMMIT DROP"
            )
            with cursor.copy("COPY access_map_writes (user_id, entries, version, digest) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row(row)
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(_TABLE)} ({_COLUMNS}) "  # noqa: S608 - the model's own table
                f"SELECT user_id, CAST(%s AS uuid), entries, version, digest, CAST(%s AS timestamptz) "
                f"FROM access_map_writes {_ON_CONFLICT}",
                [str(self.property_id), timezone.now()],
            )
            cursor.execute("DROP TABLE access_map_writes")
