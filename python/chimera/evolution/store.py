"""The genome store: experiments, runs and genomes in one SQLite file, with lineage queries.

A run writes each generation in one transaction, so a reader (a report, a dashboard in
another process) sees whole generations or none of them. The file is in WAL mode: readers
never block the writer nor the writer them, and every connection waits (``timeout``) rather
than failing when the file is briefly locked. ``GenomeStore(path, readonly=True)`` opens a
connection that cannot write.

Results come back as Arrow tables, one row per genome::

    with GenomeStore("runs.db") as store:
        exp = store.experiment("zdt1", spec={"pop_size": 100})
        run = store.create_run(exp, backend="cpp", dim=30, n_obj=2, seed=1)
        ids = store.add_generation(run, 0, X, F)
        ids = store.add_generation(run, 1, X1, F1, parents=pairs, operators="sbx+polynomial")
        best = store.best_per_generation(run, objective=0)

Genome ids are ``(run_id << 32) + k`` for the ``k``-th genome the run wrote, so they depend on
the run's own history only: after ``truncate(run, g)`` a resumed run rewrites generations
``g + 1, ...`` under the same ids as an uninterrupted run would (see :mod:`.migrations`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq

from .._durable import replacing
from .._errors import StateError, ValidationError
from .._validate import as_seed, boolean, choice, genome_dtype, integer, iterable, seconds
from .._validate import path as path_
from . import migrations

__all__ = ["GenomeStore"]

_ID_BITS = 32  # a run holds up to 2**32 genomes; run ids go up to 2**31
_F64 = np.dtype("<f8")
_COMPRESSIONS = ("zstd", "snappy", "gzip", "brotli", "lz4", "none")  # pyarrow's codecs
_EXPORT_BATCH = 1 << 16  # genomes per Parquet row group: bounded memory on any run size

_GENOME_COLUMNS = """
    g.id, g.run_id, g.generation, g.x, g.f, g.g, g.cv, g.parent1, g.parent2, g.operators,
    gen.backend, gen.created_at
"""
_GENOME_FROM = """
    genome AS g
    JOIN generation AS gen ON gen.run_id = g.run_id AND gen.generation = g.generation
"""
_GENOME_SELECT = f"SELECT {_GENOME_COLUMNS} FROM {_GENOME_FROM}"
# Id order: a run's ids grow with its generations, and the (run_id, generation) index yields
# rows in (generation, id) order, so this ordering costs SQLite no sort.
_RUN_ORDER = " ORDER BY g.generation, g.id"

_ANCESTORS = f"""
    WITH RECURSIVE ancestry(id, depth) AS (
        SELECT ?1, 0
        UNION
        SELECT l.parent_id, a.depth + 1
        FROM ancestry AS a JOIN lineage AS l ON l.child_id = a.id
        WHERE ?2 IS NULL OR a.depth < ?2
    ),
    nearest(id, depth) AS (
        SELECT id, MIN(depth) FROM ancestry WHERE depth > 0 GROUP BY id
    )
    SELECT {_GENOME_COLUMNS}, n.depth
    FROM {_GENOME_FROM} JOIN nearest AS n ON n.id = g.id
    ORDER BY n.depth, g.id
"""

# Feasible first (cv = 0), then by total violation, then by the objective; NULL (a NaN) last.
_BEST = f"""
    WITH ranked(id, rank) AS (
        SELECT g.id, ROW_NUMBER() OVER (
            PARTITION BY g.generation
            ORDER BY g.cv IS NULL, g.cv, o.value IS NULL, o.value {{direction}}, g.id
        )
        FROM genome AS g JOIN objective AS o ON o.genome_id = g.id AND o.k = ?
        WHERE g.run_id = ?
    )
    {_GENOME_SELECT} JOIN ranked AS r ON r.id = g.id
    WHERE r.rank = 1
    ORDER BY g.generation
"""

_RUNS = """
    SELECT r.id, r.experiment_id, e.name, r.backend, r.seed, r.dtype, r.dim, r.n_obj,
           r.n_constr, r.config, r.created_at,
           (SELECT MAX(generation) FROM generation WHERE run_id = r.id),
           (SELECT COALESCE(SUM(size), 0) FROM generation WHERE run_id = r.id)
    FROM run AS r JOIN experiment AS e ON e.id = r.experiment_id
"""


@dataclass(frozen=True)
class _Run:
    """What decoding a run's genomes needs; a run never changes once created."""

    id: int
    dtype: np.dtype  # little-endian, as the BLOBs hold it
    dim: int
    n_obj: int
    n_constr: int
    backend: str

    @property
    def first_id(self) -> int:
        return self.id << _ID_BITS

    @property
    def last_id(self) -> int:
        return self.first_id + (1 << _ID_BITS) - 1


class GenomeStore:
    """An embedded store of experiments, runs and their genomes, with lineage.

    Parameters
    ----------
    path : str or os.PathLike
        The store file. A missing or empty file becomes a new store (unless ``readonly``);
        a store written by an older Chimera is upgraded in place, one transaction per schema
        step; one written by a newer Chimera, or a file that is not a Chimera store, raises
        :class:`~chimera.ValidationError`.
    readonly : bool
        Open a connection that never writes (reports, a second process watching a run).
    timeout : float
        Seconds a statement waits for a lock held by another connection before failing.

    Notes
    -----
    Objectives are minimised. Constraint values follow the ``g <= 0`` is satisfied convention;
    a genome's total violation is ``cv = sum(max(g, 0))``. A connection belongs to the thread
    that opened the store; use one ``GenomeStore`` per thread or process.

    Do not open the store file with Python's ``open()`` while a ``GenomeStore`` on it is open
    in the same process: closing that descriptor drops SQLite's locks (see ``_check_file``).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, readonly: bool = False, timeout: float = 30.0
    ) -> None:
        self.path = path_(path, "path")
        self.readonly = boolean(readonly, "readonly")
        timeout = seconds(timeout, "timeout", zero=True)
        self._runs: dict[int, _Run] = {}
        self._conn: sqlite3.Connection | None = None
        _check_file(self.path, self.readonly)
        uri = self.path.resolve().as_uri() + ("?mode=ro" if self.readonly else "?mode=rwc")
        # Autocommit mode: every transaction below is an explicit BEGIN ... COMMIT.
        conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
        try:
            self._open(conn)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def _open(self, conn: sqlite3.Connection) -> None:
        try:
            app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
            version = migrations.user_version(conn)
            empty = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        except sqlite3.DatabaseError as exc:
            raise ValidationError(
                f"{self.path} is not a Chimera genome store: SQLite cannot read it as a "
                f"database ({exc}); give a new path for the store"
            ) from exc
        new = empty and app_id == 0
        if new and self.readonly:
            raise ValidationError(
                f"{self.path} is empty: no genome store has been written there yet; open it "
                "without readonly=True to create one"
            )
        if not new and app_id != migrations.APPLICATION_ID:
            raise ValidationError(
                f"{self.path} is an SQLite database but not a Chimera genome store "
                f"(application_id {app_id:#010x}, a store has {migrations.APPLICATION_ID:#010x}); "
                "give a new path for the store"
            )
        if version > migrations.SCHEMA_VERSION:
            from .. import __version__

            raise ValidationError(
                f"{self.path} was written by a newer Chimera: its schema version is {version}, "
                f"and Chimera {__version__} reads schema versions 1 to "
                f"{migrations.SCHEMA_VERSION}; upgrade chimera-engine to open it"
            )
        if self.readonly:
            if version < migrations.SCHEMA_VERSION:
                raise ValidationError(
                    f"{self.path} has schema version {version}, older than this Chimera's "
                    f"{migrations.SCHEMA_VERSION}; open it once without readonly=True to upgrade it"
                )
            conn.execute("PRAGMA query_only = ON")
            return
        # WAL: readers see the last committed generation while a run writes the next one.
        # synchronous=NORMAL keeps every commit across a killed process (the WAL is in the OS
        # cache); only a power loss may drop the last few, never corrupt the file.
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise ValidationError(
                f"SQLite cannot use WAL mode for {self.path} (journal mode {mode!r}), which "
                "concurrent readers need; put the store on a local file system"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrations.migrate(conn)

    # Connection and transactions ---------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StateError(f"the genome store {self.path} is closed")
        return self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction that takes the write lock up front (waiting up to ``timeout``).

        A deferred transaction that reads and then writes fails at once, without waiting, when
        another connection committed in between; BEGIN IMMEDIATE never meets that case.
        """
        if self.readonly:
            raise ValidationError(
                f"the genome store {self.path} was opened with readonly=True; open it without "
                "readonly to write"
            )
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: every statement in it sees the same committed snapshot."""
        db = self._db
        db.execute("BEGIN")
        try:
            yield db
        finally:
            db.execute("COMMIT")

    def close(self) -> None:
        """Close the connection; further calls raise :class:`~chimera.StateError`."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> GenomeStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = ", readonly=True" if self.readonly else ""
        state = "" if self._conn is not None else " (closed)"
        return f"GenomeStore({str(self.path)!r}{mode}){state}"

    # Experiments and runs ----------------------------------------------------------------

    def experiment(self, name: str, spec: dict[str, Any] | None = None) -> int:
        """The id of the experiment called ``name``, created if it does not exist.

        Parameters
        ----------
        name : str
            Unique name of the experiment.
        spec : dict, optional
            Its specification (JSON-serialisable). Given for an existing experiment, it must
            equal the stored one, so that runs under one name are comparable.
        """
        if not isinstance(name, str) or not name:
            raise ValidationError(f"experiment name must be a non-empty string, got {name!r}")
        text = None if spec is None else _json(spec, "spec")
        if self.readonly:
            row = self._db.execute(
                "SELECT id, spec FROM experiment WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                raise ValidationError(f"{self.path} has no experiment named {name!r}")
        else:
            with self._write() as db:
                row = db.execute(
                    "SELECT id, spec FROM experiment WHERE name = ?", (name,)
                ).fetchone()
                if row is None:
                    cursor = db.execute(
                        "INSERT INTO experiment (name, spec, created_at) VALUES (?, ?, ?)",
                        (name, "{}" if text is None else text, time.time()),
                    )
                    return int(cursor.lastrowid or 0)
        if text is not None and row[1] != text:
            raise ValidationError(
                f"experiment {name!r} already exists with a different spec; give the changed "
                "spec a new name, or pass spec=None to add runs to the existing one"
            )
        return int(row[0])

    def create_run(
        self,
        experiment: int,
        *,
        backend: str,
        dim: int,
        dtype: Any = "float64",
        n_obj: int = 1,
        n_constr: int = 0,
        seed: int | None = None,
        config: dict[str, Any] | None = None,
    ) -> int:
        """Create a run of ``experiment`` and return its id.

        Parameters
        ----------
        experiment : int
            Id from :meth:`experiment`.
        backend : str
            Kernel backend the run starts on (``"cpp"``, ``"cuda"``, ``"numba"``); a
            generation may record another (see :meth:`add_generation`).
        dim : int
            Genes per genome.
        dtype : {"float64", "float32", "int32", "bool"}
            Genome kind.
        n_obj, n_constr : int
            Objectives (>= 1) and constraint values (>= 0) per genome.
        seed : int, optional
            The run's seed, in ``[0, 2**64)``.
        config : dict, optional
            The optimizer's settings (JSON-serialisable).
        """
        exp = integer(experiment, "experiment", 1)
        dt = genome_dtype(dtype)
        dim = integer(dim, "dim", 1)
        n_obj = integer(n_obj, "n_obj", 1)
        n_constr = integer(n_constr, "n_constr", 0)
        if seed is not None:
            as_seed(seed)
        if not isinstance(backend, str) or not backend:
            raise ValidationError(f"backend must be a non-empty string, got {backend!r}")
        text = _json({} if config is None else config, "config")
        with self._write() as db:
            if db.execute("SELECT 1 FROM experiment WHERE id = ?", (exp,)).fetchone() is None:
                raise ValidationError(
                    f"experiment {exp} does not exist in {self.path}; get an id from "
                    "store.experiment(name)"
                )
            cursor = db.execute(
                "INSERT INTO run (experiment_id, config, seed, backend, dtype, dim, n_obj, "
                "n_constr, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    exp,
                    text,
                    None if seed is None else str(int(seed)),
                    backend,
                    dt.name,
                    dim,
                    n_obj,
                    n_constr,
                    time.time(),
                ),
            )
            run = int(cursor.lastrowid or 0)
            if run >= 1 << (63 - _ID_BITS):
                raise ValidationError(f"{self.path} holds the most runs a store can")
        return run

    def runs(self, experiment: int | str | None = None) -> pa.Table:
        """The runs, optionally of one experiment (id or name), with their progress.

        One row per run: its settings, ``last_generation`` (null before the first one) and
        ``n_genomes`` stored.
        """
        where = ""
        params: list[Any] = []
        if isinstance(experiment, str):
            where, params = " WHERE e.name = ?", [experiment]
        elif experiment is not None:
            where, params = " WHERE r.experiment_id = ?", [integer(experiment, "experiment", 1)]
        rows = self._db.execute(_RUNS + where + " ORDER BY r.id", params).fetchall()
        cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * 13
        seeds = [None if s is None else int(s) for s in cols[4]]
        return pa.table(
            {
                "id": pa.array(cols[0], pa.int64()),
                "experiment_id": pa.array(cols[1], pa.int64()),
                "experiment": pa.array(cols[2], pa.string()),
                "backend": pa.array(cols[3], pa.string()),
                "seed": pa.array(seeds, pa.uint64()),
                "dtype": pa.array(cols[5], pa.string()),
                "dim": pa.array(cols[6], pa.int64()),
                "n_obj": pa.array(cols[7], pa.int64()),
                "n_constr": pa.array(cols[8], pa.int64()),
                "config": pa.array(cols[9], pa.string()),
                "created_at": _timestamps(cols[10]),
                "last_generation": pa.array(cols[11], pa.int64()),
                "n_genomes": pa.array(cols[12], pa.int64()),
            }
        )

    def _run(self, run: Any) -> _Run:
        run_id = integer(run, "run", 1)
        info = self._runs.get(run_id)
        if info is None:
            row = self._db.execute(
                "SELECT dtype, dim, n_obj, n_constr, backend FROM run WHERE id = ?", (run_id,)
            ).fetchone()
            if row is None:
                raise ValidationError(
                    f"run {run_id} does not exist in {self.path}; create it with create_run()"
                )
            dtype = genome_dtype(row[0]).newbyteorder("<")
            info = _Run(run_id, dtype, int(row[1]), int(row[2]), int(row[3]), str(row[4]))
            self._runs[run_id] = info
        return info

    # Writing -----------------------------------------------------------------------------

    def add_generation(
        self,
        run: int,
        generation: int,
        X: npt.ArrayLike,
        F: npt.ArrayLike,
        G: npt.ArrayLike | None = None,
        *,
        parents: Any = None,
        operators: str | Sequence[str | None] | None = None,
        backend: str | None = None,
    ) -> np.ndarray:
        """Store one generation of a run in one transaction and return the new genome ids.

        Parameters
        ----------
        run : int
            Run id from :meth:`create_run`.
        generation : int
            Generation number, greater than the last one stored for the run (gaps are
            allowed: a run may store every k-th generation).
        X : array_like, shape (n, dim)
            Genomes, of the run's dtype (another dtype is accepted when casting is exact).
        F : array_like, shape (n, n_obj)
            Objective values; ``(n,)`` for one objective. NaN and inf are stored as they are.
        G : array_like, shape (n, n_constr), optional
            Constraint values, required exactly when the run has constraints.
        parents : array_like of int, shape (n, 2), optional
            Ids of each genome's parents among the run's earlier generations, -1 for none
            (``None``: no parents, as in an initial population).
        operators : str or sequence of str, optional
            What made the genomes, e.g. ``"sbx(eta=15)+polynomial(eta=20)"``: one string for
            the generation or one per genome.
        backend : str, optional
            Backend that computed the generation; defaults to the run's.

        Returns
        -------
        numpy.ndarray of int64, shape (n,)
            The genome ids, consecutive, in row order.

        Raises
        ------
        ValidationError
            On a bad argument; nothing is written then.
        """
        info = self._run(run)
        gen = integer(generation, "generation", 0)
        x = _genome_matrix(X, info)
        n = x.shape[0]
        f = _float_matrix(F, "F", n, info.n_obj, "objective")
        if info.n_constr == 0:
            if G is not None:
                raise ValidationError(
                    f"G must be None: run {info.id} was created with n_constr=0; create the run "
                    "with n_constr set to store constraint values"
                )
            g, cv = None, np.zeros(n)
        else:
            if G is None:
                raise ValidationError(
                    f"G is required: run {info.id} has {info.n_constr} constraint value(s) per genome"
                )
            g = _float_matrix(G, "G", n, info.n_constr, "constraint")
            with np.errstate(invalid="ignore"):
                cv = np.maximum(g, 0.0).sum(axis=1)  # NaN stays NaN: SQLite stores it as NULL
        pairs = _parents(parents, n)
        ops = _operators(operators, n)
        if backend is None:
            backend = info.backend
        elif not isinstance(backend, str) or not backend:
            raise ValidationError(f"backend must be a non-empty string, got {backend!r}")

        # What does not depend on the first id is built before the write lock is taken, so
        # the lock is held for the inserts only.
        x_rows, f_rows = _row_bytes(x), _row_bytes(f)
        g_rows: list[bytes | None] = [None] * n if g is None else list(_row_bytes(g))

        with self._write() as db:
            last = db.execute(
                "SELECT generation, first_id + size FROM generation WHERE run_id = ? "
                "ORDER BY generation DESC LIMIT 1",
                (info.id,),
            ).fetchone()
            first = info.first_id if last is None else int(last[1])
            if last is not None and gen <= last[0]:
                raise ValidationError(
                    f"generation must come after run {info.id}'s last stored generation "
                    f"{last[0]}, got {gen}; call truncate({info.id}, {gen - 1}) first to rewrite it"
                )
            if first + n - 1 > info.last_id:
                raise ValidationError(f"run {info.id} holds the most genomes a run can (2**32)")
            bad = (pairs < -1) | ((pairs >= 0) & ((pairs < info.first_id) | (pairs >= first)))
            if bad.any():
                i, j = (int(k) for k in np.argwhere(bad)[0])
                raise ValidationError(
                    f"parents must be -1 or ids of genomes of run {info.id} stored before this "
                    f"generation ({info.first_id} to {first - 1}); parents[{i}, {j}] is "
                    f"{int(pairs[i, j])}"
                )
            ids = np.arange(first, first + n, dtype=np.int64)
            id_list = ids.tolist()
            p1 = [None if p < 0 else p for p in pairs[:, 0].tolist()]
            p2 = [None if p < 0 else p for p in pairs[:, 1].tolist()]
            db.execute(
                "INSERT INTO generation (run_id, generation, first_id, size, backend, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (info.id, gen, first, n, backend, time.time()),
            )
            db.executemany(
                "INSERT INTO genome (id, run_id, generation, x, f, g, cv, parent1, parent2, "
                "operators) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                zip(
                    id_list,
                    [info.id] * n,
                    [gen] * n,
                    x_rows,
                    f_rows,
                    g_rows,
                    cv.tolist(),
                    p1,
                    p2,
                    ops,
                    strict=True,
                ),
            )
            db.executemany(
                "INSERT INTO objective (genome_id, k, value) VALUES (?, ?, ?)",
                zip(
                    np.repeat(ids, info.n_obj).tolist(),
                    list(range(info.n_obj)) * n,
                    f.ravel().tolist(),
                    strict=True,
                ),
            )
        return ids

    def truncate(self, run: int, after_generation: int) -> int:
        """Delete every generation of ``run`` after ``after_generation``; return genomes deleted.

        A run that resumes from its checkpoint of generation ``g`` calls ``truncate(run, g)``
        and then writes generations ``g + 1, ...`` again; their genome ids come out as in an
        uninterrupted run. ``after_generation=-1`` empties the run.
        """
        info = self._run(run)
        after = integer(after_generation, "after_generation", -1)
        with self._write() as db:
            first = db.execute(
                "SELECT MIN(first_id) FROM generation WHERE run_id = ? AND generation > ?",
                (info.id, after),
            ).fetchone()[0]
            if first is None:
                return 0
            # A run's genomes after a generation are one id range: delete by primary key.
            db.execute(
                "DELETE FROM objective WHERE genome_id BETWEEN ? AND ?", (first, info.last_id)
            )
            deleted = db.execute(
                "DELETE FROM genome WHERE id BETWEEN ? AND ?", (first, info.last_id)
            ).rowcount
            db.execute(
                "DELETE FROM generation WHERE run_id = ? AND generation > ?", (info.id, after)
            )
        return int(deleted)

    # Reading -----------------------------------------------------------------------------

    def last_generation(self, run: int) -> int | None:
        """The last generation stored for ``run``, or None if it has none yet."""
        info = self._run(run)
        row = self._db.execute(
            "SELECT MAX(generation) FROM generation WHERE run_id = ?", (info.id,)
        ).fetchone()
        return None if row[0] is None else int(row[0])

    def genomes(self, run: int, generation: int | None = None) -> pa.Table:
        """The genomes of ``run`` (or of one of its generations) in id order.

        Columns: ``id``, ``run_id``, ``generation``, ``x`` (fixed-size list of the run's
        dtype), ``f`` (fixed-size list of float64), ``g`` (only for a run with constraints),
        ``cv`` (total constraint violation, 0 when feasible), ``parent1``, ``parent2`` (null
        for none), ``operators``, ``backend``, ``created_at`` (UTC). The run's dtype, dim and
        sizes are in the schema metadata under ``b"chimera"``.
        """
        info = self._run(run)
        where, params = " WHERE g.run_id = ?", [info.id]
        if generation is not None:
            where += " AND g.generation = ?"
            params.append(integer(generation, "generation", 0))
        rows = self._db.execute(_GENOME_SELECT + where + _RUN_ORDER, params).fetchall()
        return _genome_table(rows, info)

    def ancestors(self, genome_id: int, max_depth: int | None = None) -> pa.Table:
        """The ancestors of a genome: parents at depth 1, grandparents at 2, and so on.

        Columns as in :meth:`genomes` plus ``depth``, the shortest path to the genome; rows
        are ordered by depth, then id. The genome itself is not included.

        Parameters
        ----------
        genome_id : int
            The genome whose lineage to follow.
        max_depth : int, optional
            Follow at most this many parent links back; None follows lineage to the start.
        """
        gid = integer(genome_id, "genome_id", 0, 2**63 - 1)  # ids fill SQLite's 63 bits
        depth = None if max_depth is None else integer(max_depth, "max_depth", 0)
        with self._read() as db:
            if db.execute("SELECT 1 FROM genome WHERE id = ?", (gid,)).fetchone() is None:
                raise ValidationError(f"genome_id {gid} is no genome in {self.path}")
            info = self._run(gid >> _ID_BITS)
            rows = db.execute(_ANCESTORS, (gid, depth)).fetchall()
        table = _genome_table([r[:12] for r in rows], info)
        return table.append_column("depth", pa.array([r[-1] for r in rows], pa.int64()))

    def best_per_generation(
        self, run: int, objective: int = 0, *, maximize: bool = False
    ) -> pa.Table:
        """The best genome of each generation of ``run``, one row per generation.

        Feasible genomes (``cv == 0``) rank before infeasible ones, which rank by total
        constraint violation; then objective ``objective`` decides (a NaN objective or
        violation ranks last), then the lower id. Columns as in :meth:`genomes`.

        Parameters
        ----------
        run : int
            Run id.
        objective : int
            Index of the objective to rank by, in ``[0, n_obj)``.
        maximize : bool
            Rank the objective by its largest value instead of its smallest.
        """
        info = self._run(run)
        k = integer(objective, "objective", 0)
        boolean(maximize, "maximize")
        if k >= info.n_obj:
            raise ValidationError(
                f"objective must be in [0, {info.n_obj}): run {info.id} has {info.n_obj} "
                f"objective(s), got {k}"
            )
        sql = _BEST.format(direction="DESC" if maximize else "ASC")
        rows = self._db.execute(sql, (k, info.id)).fetchall()
        return _genome_table(rows, info)

    def export_parquet(
        self, run: int, path: str | os.PathLike[str], *, compression: str = "zstd"
    ) -> int:
        """Write the genomes of ``run`` to a Parquet file; return how many were written.

        Columns as in :meth:`genomes`. The run is read from one snapshot in batches, so a run
        larger than memory exports too, and a generation being written meanwhile is either
        entirely in the file or not at all. The file appears only once complete.
        """
        info = self._run(run)
        choice(compression, "compression", _COMPRESSIONS)
        target = path_(path, "path")
        if target.is_dir():
            raise ValidationError(f"path {target} is a folder; give the Parquet file's path")
        written = 0
        with self._read() as db, replacing(target) as partial:
            cursor = db.execute(_GENOME_SELECT + " WHERE g.run_id = ?" + _RUN_ORDER, (info.id,))
            with pq.ParquetWriter(partial, _genome_schema(info), compression=compression) as out:
                while rows := cursor.fetchmany(_EXPORT_BATCH):
                    out.write_table(_genome_table(rows, info))
                    written += len(rows)
        return written


# Helpers -------------------------------------------------------------------------------------


def _check_file(path: Path, readonly: bool) -> None:
    """Refuse a path that cannot hold a store, looking at it with ``stat`` only.

    The file itself is never opened from Python: closing any descriptor of a file drops every
    POSIX lock this process holds on it, those of a live SQLite connection included, and a
    writer in another process could then checkpoint under that connection's reads
    (https://sqlite.org/howtocorrupt.html, section 2.2). SQLite reports a non-database file.
    """
    if path.is_dir():
        raise ValidationError(f"{path} is a folder; give the path of a genome store file")
    if not path.exists():
        if readonly:
            raise ValidationError(
                f"there is no genome store at {path}; with readonly=True the store must already exist"
            )
        if not path.parent.is_dir():
            raise ValidationError(f"cannot create a genome store at {path}: no such folder")


def _json(value: Any, name: str) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")

    try:
        return json.dumps(value, sort_keys=True, allow_nan=False, default=default)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be JSON-serialisable: {exc}") from exc


def _as_array(value: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:
        raise ValidationError(f"{name} could not be read as an array: {exc}") from exc
    if arr.dtype.kind not in "biuf":
        raise ValidationError(f"{name} must be real numbers, got dtype {arr.dtype}")
    return arr


def _genome_matrix(X: Any, info: _Run) -> np.ndarray:
    arr = _as_array(X, "X")
    if arr.ndim != 2 or arr.shape[0] < 1 or arr.shape[1] != info.dim:
        raise ValidationError(
            f"X must have shape (n, {info.dim}) with n >= 1, one genome of run {info.id} a row, "
            f"got shape {arr.shape}"
        )
    native = info.dtype.newbyteorder("=")
    if arr.dtype != native:
        with np.errstate(over="ignore", invalid="ignore"):
            cast = arr.astype(native)
            exact = np.array_equal(
                cast, arr, equal_nan=native.kind == "f" and arr.dtype.kind == "f"
            )
        if not exact:
            raise ValidationError(
                f"X has dtype {arr.dtype} and run {info.id} stores {native} genomes; casting "
                "would change values, so cast X yourself"
            )
        arr = cast
    return np.ascontiguousarray(arr, dtype=info.dtype)


def _float_matrix(value: Any, name: str, n: int, width: int, what: str) -> np.ndarray:
    arr = _as_array(value, name)
    if arr.ndim == 1 and width == 1:
        arr = arr[:, None]
    if arr.shape != (n, width):
        raise ValidationError(
            f"{name} must have shape ({n}, {width}), {width} {what} value(s) for each of the "
            f"{n} rows of X, got shape {arr.shape}"
        )
    return np.ascontiguousarray(arr, dtype=_F64)


def _parents(parents: Any, n: int) -> np.ndarray:
    if parents is None:
        return np.full((n, 2), -1, dtype=np.int64)
    try:
        arr = np.asarray(parents)
    except Exception as exc:
        raise ValidationError(f"parents could not be read as an array: {exc}") from exc
    if arr.dtype.kind not in "iu":
        raise ValidationError(
            f"parents must be integer genome ids (-1 for none), got dtype {arr.dtype}"
        )
    if arr.shape != (n, 2):
        raise ValidationError(
            f"parents must have shape ({n}, 2), two parent ids (-1 for none) for each of the "
            f"{n} rows of X, got shape {arr.shape}"
        )
    return arr.astype(np.int64)


def _operators(operators: Any, n: int) -> list[str | None]:
    if operators is None or isinstance(operators, str):
        return [operators] * n
    ops = iterable(operators, "operators", "strings")
    if len(ops) != n or not all(op is None or isinstance(op, str) for op in ops):
        raise ValidationError(
            f"operators must be a string or a sequence of {n} strings, one for each row of X"
        )
    return ops


def _row_bytes(a: np.ndarray) -> list[bytes]:
    """The rows of a C-contiguous 2-D array as bytes (slicing one buffer beats n tobytes())."""
    data, step = a.tobytes(), a.shape[1] * a.itemsize
    return [data[i : i + step] for i in range(0, len(data), step)]


def _metadata(info: _Run) -> dict[bytes, bytes]:
    meta = {
        "run_id": info.id,
        "dtype": info.dtype.name,
        "dim": info.dim,
        "n_obj": info.n_obj,
        "n_constr": info.n_constr,
        "schema_version": migrations.SCHEMA_VERSION,
    }
    return {b"chimera": json.dumps(meta).encode()}


def _genome_schema(info: _Run) -> pa.Schema:
    fields = [
        pa.field("id", pa.int64(), nullable=False),
        pa.field("run_id", pa.int64(), nullable=False),
        pa.field("generation", pa.int64(), nullable=False),
        pa.field("x", pa.list_(pa.from_numpy_dtype(info.dtype.newbyteorder("=")), info.dim)),
        pa.field("f", pa.list_(pa.float64(), info.n_obj)),
    ]
    if info.n_constr:
        fields.append(pa.field("g", pa.list_(pa.float64(), info.n_constr)))
    fields += [
        pa.field("cv", pa.float64()),
        pa.field("parent1", pa.int64()),
        pa.field("parent2", pa.int64()),
        pa.field("operators", pa.string()),
        pa.field("backend", pa.string()),
        pa.field("created_at", pa.timestamp("us", tz="UTC")),
    ]
    return pa.schema(fields, metadata=_metadata(info))


def _decode(blobs: Sequence[bytes], dtype: np.dtype, n: int, width: int) -> pa.Array:
    values = np.frombuffer(b"".join(blobs), dtype=dtype).astype(dtype.newbyteorder("="), copy=False)
    if values.size != n * width:
        raise StateError(f"the store holds {values.size} values where {n * width} were expected")
    return pa.FixedSizeListArray.from_arrays(pa.array(values), width)


def _timestamps(seconds: Sequence[float]) -> pa.Array:
    micros = np.round(np.asarray(seconds, dtype=np.float64) * 1e6).astype(np.int64)
    return pa.array(micros, pa.timestamp("us", tz="UTC"))


def _genome_table(rows: Sequence[Sequence[Any]], info: _Run) -> pa.Table:
    """Arrow table of rows as ``_GENOME_SELECT`` returns them."""
    n = len(rows)
    cols: list[Sequence[Any]] = list(zip(*rows, strict=True)) if n else [()] * 12
    arrays = [
        pa.array(np.asarray(cols[0], dtype=np.int64)),
        pa.array(np.asarray(cols[1], dtype=np.int64)),
        pa.array(np.asarray(cols[2], dtype=np.int64)),
        _decode(cols[3], info.dtype, n, info.dim),
        _decode(cols[4], _F64, n, info.n_obj),
    ]
    if info.n_constr:
        arrays.append(_decode(cols[5], _F64, n, info.n_constr))
    arrays += [
        pa.array(np.asarray(cols[6], dtype=np.float64)),  # NULL (a NaN violation) -> NaN
        pa.array(cols[7], pa.int64()),
        pa.array(cols[8], pa.int64()),
        pa.array(cols[9], pa.string()),
        pa.array(cols[10], pa.string()),
        _timestamps(cols[11]),
    ]
    return pa.Table.from_arrays(arrays, schema=_genome_schema(info))
