"""The one error storage lets out to the core (SQLAlchemy's exceptions never leave storage/).

    StorageUnavailable      the database cannot take the request now; trying again later may work
      .kind = "busy"        locked by another writer (SQLite) or out of locks/connections
      .kind = "full"        "database or disk is full" (SQLite) / disk full (PostgreSQL)
      .kind = "unreachable" the server cannot be reached, or refuses connections
"""

from __future__ import annotations

from typing import Literal

from bot.errors import ArenaError

Kind = Literal["busy", "full", "unreachable"]


class StorageUnavailable(ArenaError):
    """The database could not do the work now; ``kind`` says why (see the module docstring)."""

    def __init__(self, kind: Kind, detail: str = "") -> None:
        super().__init__(detail or f"the database is {kind}")
        self.kind: Kind = kind
        self.detail = detail


# SQLite result codes (sqlite3.Error.sqlite_errorcode & 0xFF) and PostgreSQL SQLSTATE prefixes.
_SQLITE_KINDS: dict[int, Kind] = {5: "busy", 6: "busy", 13: "full", 10: "unreachable", 14: "unreachable"}
_PG_KINDS: dict[str, Kind] = {"53100": "full", "53": "busy", "55P03": "busy", "57P03": "unreachable",
                              "08": "unreachable"}


def classify(error: BaseException) -> Kind | None:
    """Whether a DB-API error means the database is unavailable (and how), else None."""
    code = getattr(error, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_KINDS.get(code & 0xFF)
    message = str(error).lower()
    if type(error).__name__ == "OperationalError" and "database or disk is full" in message:
        return "full"
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str):
        return _PG_KINDS.get(sqlstate) or _PG_KINDS.get(sqlstate[:2])
    if type(error).__module__.startswith("psycopg") and type(error).__name__ == "OperationalError":
        return "unreachable"  # connection refused / lost: psycopg gives no SQLSTATE
    return None
