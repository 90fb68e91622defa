"""The schema of the genome store, as an ordered list of migrations.

``MIGRATIONS[v]`` takes a store from schema version ``v`` to ``v + 1``; the version is kept in
``PRAGMA user_version`` and a store is marked as Chimera's by ``PRAGMA application_id``. A
released migration is never edited: a schema change is a new entry at the end.

Genome ids are ``(run_id << 32) + k`` for the ``k``-th genome a run wrote (0-based), so a
run's genomes fill one dense id range in write order. That makes ids deterministic per run
(a resumed run that truncates and rewrites generations gets the same ids back, whatever other
runs wrote in between), and it is why ``parent1``/``parent2`` need no foreign key: a parent is
valid exactly when it lies in the run's range below the first id being written, which the
store checks before inserting.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple

#: ``PRAGMA application_id`` of a Chimera genome store: "CHMR" in ASCII.
APPLICATION_ID = 0x43484D52


class Migration(NamedTuple):
    """One schema step: statements run in a single transaction."""

    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        "tables: experiments, runs, generations, genomes, objective values",
        (
            """
            CREATE TABLE experiment (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                spec TEXT NOT NULL,           -- JSON, keys sorted
                created_at REAL NOT NULL      -- Unix seconds
            )
            """,
            """
            CREATE TABLE run (
                id INTEGER PRIMARY KEY,
                experiment_id INTEGER NOT NULL REFERENCES experiment(id),
                config TEXT NOT NULL,         -- JSON, keys sorted
                seed TEXT,                    -- decimal: a seed is unsigned 64-bit, INTEGER is signed
                backend TEXT NOT NULL,
                dtype TEXT NOT NULL CHECK (dtype IN ('float64', 'float32', 'int32', 'bool')),
                dim INTEGER NOT NULL CHECK (dim >= 1),
                n_obj INTEGER NOT NULL CHECK (n_obj >= 1),
                n_constr INTEGER NOT NULL CHECK (n_constr >= 0),
                created_at REAL NOT NULL
            )
            """,
            # One row per stored generation: what ran it and when, and its id range, so that
            # resuming and listing need not scan genomes.
            """
            CREATE TABLE generation (
                run_id INTEGER NOT NULL REFERENCES run(id),
                generation INTEGER NOT NULL CHECK (generation >= 0),
                first_id INTEGER NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 1),
                backend TEXT NOT NULL,
                created_at REAL NOT NULL,
                PRIMARY KEY (run_id, generation)
            ) WITHOUT ROWID
            """,
            # The BLOBs are the exact values (little-endian, NaN and -0.0 kept); SQLite turns a
            # bound NaN into NULL, so REAL columns are only what SQL orders by.
            """
            CREATE TABLE genome (
                id INTEGER PRIMARY KEY,       -- (run_id << 32) + k, see the module docstring
                run_id INTEGER NOT NULL,
                generation INTEGER NOT NULL,
                x BLOB NOT NULL,              -- dim genes of the run's dtype
                f BLOB NOT NULL,              -- n_obj float64 objectives
                g BLOB,                       -- n_constr float64 constraints (<= 0 is satisfied)
                cv REAL,                      -- sum(max(g, 0)); 0 if feasible; NULL if g has NaN
                parent1 INTEGER,
                parent2 INTEGER,
                operators TEXT,
                FOREIGN KEY (run_id, generation) REFERENCES generation(run_id, generation)
            )
            """,
            """
            CREATE TABLE objective (
                genome_id INTEGER NOT NULL REFERENCES genome(id),
                k INTEGER NOT NULL,
                value REAL,                   -- NULL where the objective is NaN
                PRIMARY KEY (genome_id, k)
            ) WITHOUT ROWID
            """,
        ),
    ),
    Migration(
        "lineage view and the index of genomes by generation",
        (
            # Also serves the foreign-key check when truncate deletes generation rows.
            "CREATE INDEX genome_by_generation ON genome(run_id, generation)",
            # One edge per (child, parent slot). Written as a join with two constant rows, not
            # as a UNION ALL of two selects: SQLite flattens this shape into a query, so the
            # recursive ancestry step does a primary-key lookup per genome, where it would
            # materialize a UNION ALL view over the whole genome table.
            """
            CREATE VIEW lineage(child_id, parent_id, slot) AS
                SELECT g.id, CASE s.column1 WHEN 1 THEN g.parent1 ELSE g.parent2 END, s.column1
                FROM genome AS g, (VALUES (1), (2)) AS s
                WHERE CASE s.column1 WHEN 1 THEN g.parent1 ELSE g.parent2 END IS NOT NULL
            """,
        ),
    ),
)

#: The schema version this Chimera writes and reads.
SCHEMA_VERSION = len(MIGRATIONS)


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the store on ``conn`` up to schema version ``target``, one transaction a step.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Each step re-reads the
    version under the write lock, so two processes opening an old store at once upgrade it
    once. Returns the version reached. Tests pass a lower ``target`` to build an old store.
    """
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"target must be in [0, {SCHEMA_VERSION}], got {target}")
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(conn)
            if version >= target:
                conn.execute("COMMIT")
                return version
            if version == 0:
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            for statement in MIGRATIONS[version].statements:
                conn.execute(statement)
            # PRAGMA takes no parameters; version is an int we computed.
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
