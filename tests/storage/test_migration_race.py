"""Replicas that start together on an empty PostgreSQL database all come up: `db upgrade` runs
under an advisory lock, so one migrates and the others find nothing left to do."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]


def test_two_replicas_upgrading_an_empty_database_at_once_both_succeed(tmp_path: Path, postgres_url: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    failures: list[str] = []
    try:
        for round_ in range(10):
            schema = f"t_race_{uuid.uuid4().hex[:10]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            sep = "&" if "?" in postgres_url else "?"
            env = {**os.environ, "DATABASE_URL": f"{postgres_url}{sep}options=-csearch_path%3D{schema}",
                   "CODEGEN_HOME": str(tmp_path)}
            replicas = [
                subprocess.Popen([sys.executable, "-m", "app.cli", "db", "upgrade"], cwd=ROOT, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]
            for replica in replicas:
                out, err = replica.communicate(timeout=120)
                if replica.returncode != 0:
                    failures.append(f"round {round_}: exit {replica.returncode}: {err.strip().splitlines()[-1:]}")
                else:
                    assert "database is up to date" in out
            with admin.connect() as conn:
                version = conn.execute(text(f'SELECT version_num FROM "{schema}".alembic_version')).scalars().all()
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            assert len(version) == 1
    finally:
        admin.dispose()
    assert failures == []
