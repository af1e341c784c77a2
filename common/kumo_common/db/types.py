"""Column types portable across SQLite, PostgreSQL and MariaDB."""
import json

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator


class JSONText(TypeDecorator):
    """JSON stored as TEXT.

    Plain TEXT on every backend, so the schema is identical on all three (MariaDB's
    JSON is a LONGTEXT alias with a check constraint, which would make the
    models-vs-migrations comparison backend dependent).
    """
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else json.dumps(value, sort_keys=True)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value)
