"""Prints how many hours ago the marts in a DuckDB warehouse were built (executive_kpis.built_at).

Usage: python3 scripts/freshness_hours.py WAREHOUSE.duckdb   — a health check: the agent compares the
number against the stage's warnIf / errorIf (hours, the data-freshness SLA).
"""
import sys
from datetime import datetime, timezone

import duckdb

connection = duckdb.connect(sys.argv[1], read_only=True)
try:
    (built_at,) = connection.execute("select built_at from executive_kpis").fetchone()
finally:
    connection.close()
if built_at.tzinfo is None:
    built_at = built_at.replace(tzinfo=timezone.utc)
print(round((datetime.now(timezone.utc) - built_at).total_seconds() / 3600, 2))
