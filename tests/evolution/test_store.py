"""The genome store: round trips, lineage, ranking, export, resume, schema versions, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chimera import StateError, ValidationError
from chimera.evolution import migrations
from chimera.evolution import store as store_module
from chimera.evolution.store import GenomeStore

RUN_BASE = 1 << 32  # the first genome id of run 1


def raw(path: Path) -> sqlite3.Connection:
    """A plain SQLite connection to poke at a store behind its back."""
    return sqlite3.connect(path, isolation_level=None)


def pragma(path: Path, name: str) -> int:
    conn = raw(path)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "genomes.db"


@pytest.fixture
def store(path: Path):
    with GenomeStore(path) as s:
        yield s


def new_run(store: GenomeStore, **kw) -> int:
    kw = {"backend": "cpp", "dim": 3, **kw}
    return store.create_run(store.experiment("exp"), **kw)


def x_of(table: pa.Table, dtype: str) -> np.ndarray:
    col = table.column("x").combine_chunks()
    return col.values.to_numpy(zero_copy_only=False).astype(dtype).reshape(len(col), -1)


def f_of(table: pa.Table, name: str = "f") -> np.ndarray:
    col = table.column(name).combine_chunks()
    return col.values.to_numpy().reshape(len(col), -1)


# Round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
def test_round_trip_of_every_dtype(store: GenomeStore, dtype: str) -> None:
    rng = np.random.default_rng(1)
    if dtype == "bool":
        X = rng.random((5, 4)) < 0.5
    elif dtype == "int32":
        X = rng.integers(-100, 100, (5, 4)).astype(np.int32)
        X[0, :2] = np.iinfo(np.int32).min, np.iinfo(np.int32).max
    else:
        X = rng.normal(size=(5, 4)).astype(dtype)
        X[0, :3] = np.nan, np.inf, -0.0
    F = rng.normal(size=(5, 2))
    F[1] = np.nan, -np.inf
    F[2, 0] = -0.0
    G = rng.normal(size=(5, 3))
    G[3, 1] = np.nan
    run = new_run(store, dim=4, dtype=dtype, n_obj=2, n_constr=3)
    ids = store.add_generation(run, 0, X, F, G, operators="init", backend="numba")

    table = store.genomes(run)
    assert table.column("id").to_pylist() == ids.tolist() == list(range(RUN_BASE, RUN_BASE + 5))
    assert table.schema.field("x").type == pa.list_(pa.from_numpy_dtype(np.dtype(dtype)), 4)
    got = x_of(table, dtype)
    assert got.dtype == np.dtype(dtype)
    # Bit for bit: NaN, inf and -0.0 come back as they went in.
    assert got.tobytes() == X.tobytes()
    assert f_of(table).tobytes() == F.tobytes()
    assert f_of(table, "g").tobytes() == G.tobytes()
    cv = table.column("cv").to_numpy()
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(cv, np.maximum(G, 0).sum(axis=1))
    assert np.isnan(cv[3])
    assert table.column("operators").to_pylist() == ["init"] * 5
    assert table.column("backend").to_pylist() == ["numba"] * 5
    assert table.column("parent1").null_count == 5
    assert table.schema.metadata[b"chimera"]


def test_single_objective_and_exact_casts(store: GenomeStore) -> None:
    run = new_run(store, dtype="int32")
    # An int64 array and a (n,) fitness are accepted: the cast to int32 loses nothing.
    store.add_generation(run, 0, np.array([[1, 2, 3], [4, 5, 6]]), [0.5, 0.25])
    table = store.genomes(run)
    np.testing.assert_array_equal(x_of(table, "int32"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(f_of(table), [[0.5], [0.25]])
    assert "g" not in table.column_names


def test_experiment_is_get_or_create(store: GenomeStore) -> None:
    a = store.experiment("zdt1", spec={"pop": 100, "gens": np.int64(5)})
    assert store.experiment("zdt1") == a
    assert store.experiment("zdt1", spec={"gens": 5, "pop": 100}) == a
    assert store.experiment("other") != a
    with pytest.raises(ValidationError, match="different spec"):
        store.experiment("zdt1", spec={"pop": 50})
    with pytest.raises(ValidationError, match="spec must be JSON"):
        store.experiment("x", spec={"f": object()})


def test_runs_table(store: GenomeStore) -> None:
    exp = store.experiment("a")
    r1 = store.create_run(exp, backend="cpp", dim=2, seed=2**64 - 1, config={"pop": 2})
    r2 = store.create_run(store.experiment("b"), backend="cuda", dim=5, dtype="bool", n_obj=3)
    store.add_generation(r1, 0, np.zeros((2, 2)), np.zeros(2))
    store.add_generation(r1, 4, np.zeros((2, 2)), np.zeros(2))
    runs = store.runs()
    assert runs.column("id").to_pylist() == [r1, r2]
    assert runs.column("seed").to_pylist() == [2**64 - 1, None]
    assert runs.column("last_generation").to_pylist() == [4, None]
    assert runs.column("n_genomes").to_pylist() == [4, 0]
    assert runs.column("config").to_pylist() == ['{"pop": 2}', "{}"]
    assert store.runs("b").column("id").to_pylist() == [r2]
    assert store.runs(exp).column("id").to_pylist() == [r1]
    assert store.runs("missing").num_rows == 0


# Lineage and ranking -----------------------------------------------------------------------


def test_lineage_over_three_generations(store: GenomeStore) -> None:
    run = new_run(store)
    X, F = np.zeros((4, 3)), np.arange(4.0)
    g0 = store.add_generation(run, 0, X, F)
    g1 = store.add_generation(
        run, 1, X, F, parents=[[g0[0], g0[1]], [g0[1], -1], [g0[2], g0[2]], [g0[3], g0[0]]]
    )
    g2 = store.add_generation(
        run, 2, X, F, parents=[[g1[0], g1[1]], [g1[1], -1], [-1, -1], [g1[2], g0[3]]]
    )

    def lineage(genome: int, max_depth: int | None = None) -> list[tuple[int, int]]:
        t = store.ancestors(genome, max_depth)
        return list(zip(t.column("id").to_pylist(), t.column("depth").to_pylist(), strict=True))

    assert lineage(int(g2[0])) == [(g1[0], 1), (g1[1], 1), (g0[0], 2), (g0[1], 2)]
    assert lineage(int(g2[0]), max_depth=1) == [(g1[0], 1), (g1[1], 1)]
    assert lineage(int(g2[0]), max_depth=0) == []
    assert lineage(int(g2[1])) == [(g1[1], 1), (g0[1], 2)]
    assert lineage(int(g2[2])) == []
    # g0[3] is both a parent (depth 1) and a grandparent (depth 2): reported once, nearest.
    assert lineage(int(g2[3])) == [(g0[3], 1), (g1[2], 1), (g0[2], 2)]
    assert lineage(int(g0[0])) == []
    table = store.ancestors(int(g2[3]))
    assert table.column("generation").to_pylist() == [0, 1, 0]
    assert table.schema.names[-1] == "depth"
    with pytest.raises(ValidationError, match="genome_id 12345 is no genome"):
        store.ancestors(12345)


def test_parents_must_be_earlier_genomes_of_the_run(store: GenomeStore) -> None:
    run = new_run(store)
    other = new_run(store)
    X, F = np.zeros((2, 3)), np.zeros(2)
    ids = store.add_generation(run, 0, X, F)
    foreign = store.add_generation(other, 0, X, F)
    for bad in ([ids[0], ids[1] + 1], [foreign[0], -1], [-2, -1]):
        with pytest.raises(ValidationError, match=r"parents\[0, \d\]"):
            store.add_generation(run, 1, X, F, parents=[bad, [-1, -1]])
    assert store.last_generation(run) == 0


def test_best_per_generation_with_constraints(store: GenomeStore) -> None:
    run = new_run(store, n_obj=2, n_constr=2)
    X = np.zeros((4, 3))
    # Generation 0: the lowest objective 0 is infeasible; of the feasible, row 2 is best.
    F0 = np.array([[0.0, 9.0], [5.0, 1.0], [3.0, 2.0], [np.nan, 0.0]])
    G0 = np.array([[0.5, -1.0], [-1.0, 0.0], [-2.0, -3.0], [-1.0, -1.0]])
    # Generation 1: nobody is feasible; the smallest total violation wins whatever F says.
    F1 = np.array([[0.0, 0.0], [8.0, 8.0], [7.0, 7.0], [1.0, 1.0]])
    G1 = np.array([[2.0, 1.0], [0.5, 0.5], [0.25, 0.5], [np.nan, 0.0]])
    # Generation 2: a tie on objective 0 goes to the lower id; NaN ranks last.
    F2 = np.array([[np.nan, 0.0], [1.0, 5.0], [1.0, 4.0], [2.0, 3.0]])
    G2 = np.zeros((4, 2))
    g0 = store.add_generation(run, 0, X, F0, G0)
    g1 = store.add_generation(run, 1, X, F1, G1)
    g2 = store.add_generation(run, 2, X, F2, G2)

    best = store.best_per_generation(run)
    assert best.column("generation").to_pylist() == [0, 1, 2]
    assert best.column("id").to_pylist() == [g0[2], g1[2], g2[1]]
    np.testing.assert_array_equal(best.column("cv").to_numpy(), [0.0, 0.75, 0.0])
    by_second = store.best_per_generation(run, objective=1)
    assert by_second.column("id").to_pylist() == [g0[3], g1[2], g2[0]]
    assert store.best_per_generation(run, maximize=True).column("id").to_pylist() == [
        g0[1],
        g1[2],
        g2[3],
    ]
    with pytest.raises(ValidationError, match=r"objective must be in \[0, 2\)"):
        store.best_per_generation(run, objective=2)


# Export ------------------------------------------------------------------------------------


def test_export_parquet_reads_back(store: GenomeStore, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(store_module, "_EXPORT_BATCH", 7)  # several row groups
    run = new_run(store, dim=4, dtype="float32", n_obj=2, n_constr=1)
    rng = np.random.default_rng(5)
    ids = None
    for gen in range(4):
        parents = None if ids is None else rng.choice(ids, size=(6, 2))
        ids = store.add_generation(
            run,
            gen,
            rng.random((6, 4)).astype(np.float32),
            rng.random((6, 2)),
            rng.random((6, 1)) - 0.5,
            parents=parents,
            operators=[f"op{i}" for i in range(6)],
        )
    out = tmp_path / "run.parquet"
    assert store.export_parquet(run, out) == 24
    assert not list(tmp_path.glob("*.partial"))
    back = pq.read_table(out)
    assert pq.ParquetFile(out).metadata.num_row_groups == 4
    table = store.genomes(run)
    assert back.schema.metadata == table.schema.metadata
    # Parquet names a list's child "element" where Arrow says "item"; the values are the same.
    assert back.cast(table.schema).equals(table)
    assert back.schema.field("x").type.list_size == 4
    assert back.schema.field("x").type.value_type == pa.float32()
    assert back.schema.field("f").type.list_size == 2

    empty = new_run(store)
    assert store.export_parquet(empty, tmp_path / "empty.parquet") == 0
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


# Resume ------------------------------------------------------------------------------------


def write_generations(store: GenomeStore, run: int, gens: range, other: int | None = None):
    """Generations of a deterministic run; ``other`` gets a generation written in between."""
    ids = store.genomes(run, gens.start - 1).column("id").to_numpy() if gens.start else None
    for gen in gens:
        rng = np.random.default_rng(gen)
        parents = None if ids is None else rng.choice(ids, size=(5, 2))
        ids = store.add_generation(run, gen, rng.random((5, 3)), rng.random(5), parents=parents)
        if other is not None:
            last = store.last_generation(other)
            store.add_generation(other, 0 if last is None else last + 1, np.ones((3, 3)), [1, 2, 3])


def test_truncate_and_rewrite_gives_the_same_ids(store: GenomeStore) -> None:
    run, other = new_run(store), new_run(store)
    write_generations(store, run, range(6), other)
    uninterrupted = store.genomes(run).drop_columns(["created_at"])

    assert store.truncate(run, 2) == 15
    assert store.last_generation(run) == 2
    assert store.genomes(run).num_rows == 15
    assert store.genomes(other).num_rows == 18  # another run is left alone
    # Resume: the other run keeps writing in between, and the ids still come out the same.
    write_generations(store, run, range(3, 6), other)
    assert store.genomes(run).drop_columns(["created_at"]).equals(uninterrupted)
    assert store.truncate(run, 5) == 0
    assert store.truncate(run, -1) == 30
    assert store.last_generation(run) is None
    write_generations(store, run, range(6))
    assert store.genomes(run).drop_columns(["created_at"]).equals(uninterrupted)


def test_rewriting_a_generation_needs_truncate(store: GenomeStore) -> None:
    run = new_run(store)
    store.add_generation(run, 3, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValidationError, match=r"last stored generation 3.*truncate\(1, 2\)"):
        store.add_generation(run, 3, np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValidationError, match="after run 1's last stored generation 3, got 1"):
        store.add_generation(run, 1, np.zeros((2, 3)), np.zeros(2))


# Validation and failed writes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"X": np.zeros((4, 2))}, r"X must have shape \(n, 3\)"),
        ({"X": np.zeros((0, 3)), "F": np.zeros(0)}, "X must have shape"),
        ({"X": np.full((4, 3), 0.1)}, "casting would change values"),
        ({"X": np.full((4, 3), "a")}, "X must be real numbers"),
        ({"F": np.zeros((3, 2))}, r"F must have shape \(4, 2\)"),
        ({"F": np.zeros(4)}, r"F must have shape \(4, 2\)"),
        ({"G": None}, "G is required"),
        ({"G": np.zeros((4, 2))}, r"G must have shape \(4, 1\)"),
        ({"parents": np.zeros((4, 3), dtype=int)}, r"parents must have shape \(4, 2\)"),
        ({"parents": np.zeros((4, 2))}, "parents must be integer genome ids"),
        ({"operators": ["a", "b"]}, "operators must be a string or a sequence of 4"),
        ({"generation": -1}, "generation must be an integer >= 0"),
        ({"generation": 1.0}, "generation must be an integer"),
        ({"run": 99}, "run 99 does not exist"),
        ({"backend": ""}, "backend must be a non-empty string"),
    ],
)
def test_bad_arguments_are_refused_and_nothing_changes(store: GenomeStore, kwargs, message) -> None:
    run = new_run(store, dtype="float32", n_obj=2, n_constr=1)
    args = {
        "run": run,
        "generation": 1,
        "X": np.zeros((4, 3), dtype=np.float32),
        "F": np.zeros((4, 2)),
        "G": np.zeros((4, 1)),
    }
    store.add_generation(**args)  # generation 1 exists; write 2 next
    before = store.genomes(run)
    args.update({"generation": 2, **kwargs})
    with pytest.raises(ValidationError, match=message):
        store.add_generation(**args)
    assert store.genomes(run).equals(before)
    assert store.last_generation(run) == 1


def test_unconstrained_run_refuses_g(store: GenomeStore) -> None:
    run = new_run(store)
    with pytest.raises(ValidationError, match="G must be None"):
        store.add_generation(run, 0, np.zeros((1, 3)), [0.0], [[1.0]])


def test_failure_inside_the_transaction_rolls_it_back(store: GenomeStore, path: Path) -> None:
    run = new_run(store, n_obj=2)
    store.add_generation(run, 0, np.zeros((3, 3)), np.zeros((3, 2)))
    before = store.genomes(run)
    # Make SQLite itself fail on the last objective row, after the generation, the genome
    # rows and most objective rows of the generation are inserted.
    conn = raw(path)
    conn.execute(
        "CREATE TRIGGER boom BEFORE INSERT ON objective WHEN NEW.value = 666 "
        "BEGIN SELECT RAISE(ABORT, 'boom'); END"
    )
    conn.close()
    F = np.zeros((3, 2))
    F[2, 1] = 666
    with pytest.raises(sqlite3.IntegrityError, match="boom"):
        store.add_generation(run, 1, np.ones((3, 3)), F, parents=np.full((3, 2), RUN_BASE))
    assert store.genomes(run).equals(before)
    assert store.last_generation(run) == 0
    conn = raw(path)
    try:
        assert conn.execute("SELECT count(*) FROM objective").fetchone() == (6,)
    finally:
        conn.close()
    # The store still works, and the next generation takes the ids the failed one did not.
    F[2, 1] = 1
    ids = store.add_generation(run, 1, np.ones((3, 3)), F)
    assert ids.tolist() == [RUN_BASE + 3, RUN_BASE + 4, RUN_BASE + 5]


def test_create_run_validates(store: GenomeStore) -> None:
    exp = store.experiment("e")
    for kwargs, message in [
        ({"dim": 0}, "dim must be a positive integer"),
        ({"dtype": "int64"}, "dtype must be one of"),
        ({"n_obj": 0}, "n_obj must be a positive integer"),
        ({"seed": 2**64}, r"seed must be in \[0, 2\*\*64\)"),
        ({"seed": -1}, r"seed must be in \[0, 2\*\*64\)"),
        ({"backend": None}, "backend must be a non-empty string"),
        ({"config": {"a": float("nan")}}, "config must be JSON"),
    ]:
        with pytest.raises(ValidationError, match=message):
            store.create_run(exp, **{"backend": "cpp", "dim": 2, **kwargs})
    with pytest.raises(ValidationError, match="experiment 7 does not exist"):
        store.create_run(7, backend="cpp", dim=2)
    assert store.runs().num_rows == 0


# Opening: new, old, newer and foreign files ------------------------------------------------


def test_new_store_is_marked(path: Path) -> None:
    with GenomeStore(path) as s:
        assert "closed" not in repr(s)
    assert "closed" in repr(s)
    with pytest.raises(StateError, match="closed"):
        s.runs()
    assert pragma(path, "application_id") == migrations.APPLICATION_ID
    assert pragma(path, "user_version") == migrations.SCHEMA_VERSION
    conn = raw(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()


def test_empty_file_becomes_a_store(path: Path) -> None:
    path.touch()
    with pytest.raises(ValidationError, match="is empty"):
        GenomeStore(path, readonly=True)
    with GenomeStore(path) as s:
        assert s.runs().num_rows == 0


def test_upgrade_from_an_older_version(path: Path) -> None:
    conn = raw(path)
    try:
        assert migrations.migrate(conn, target=1) == 1
        # Rows as a version-1 Chimera wrote them: two generations, one parent link.
        f = np.array([1.5]).tobytes()
        conn.execute("INSERT INTO experiment VALUES (1, 'old', '{}', 0)")
        conn.execute("INSERT INTO run VALUES (1, 1, '{}', '7', 'cpp', 'float64', 2, 1, 0, 0)")
        conn.execute("INSERT INTO generation VALUES (1, 0, ?, 1, 'cpp', 0)", (RUN_BASE,))
        conn.execute("INSERT INTO generation VALUES (1, 1, ?, 1, 'cpp', 0)", (RUN_BASE + 1,))
        x = np.array([1.0, 2.0]).tobytes()
        conn.execute(
            "INSERT INTO genome VALUES (?, 1, 0, ?, ?, NULL, 0, NULL, NULL, NULL)",
            (RUN_BASE, x, f),
        )
        conn.execute(
            "INSERT INTO genome VALUES (?, 1, 1, ?, ?, NULL, 0, ?, NULL, 'mut')",
            (RUN_BASE + 1, x, f, RUN_BASE),
        )
        conn.executemany("INSERT INTO objective VALUES (?, 0, 1.5)", [(RUN_BASE,), (RUN_BASE + 1,)])
    finally:
        conn.close()
    with pytest.raises(ValidationError, match="schema version 1, older"):
        GenomeStore(path, readonly=True)

    with GenomeStore(path) as s:
        assert s.ancestors(RUN_BASE + 1).column("id").to_pylist() == [RUN_BASE]
        assert s.genomes(1).num_rows == 2
        assert s.add_generation(1, 2, np.zeros((1, 2)), [0.0]).tolist() == [RUN_BASE + 2]
    assert pragma(path, "user_version") == migrations.SCHEMA_VERSION
    with GenomeStore(path, readonly=True) as s:
        assert s.last_generation(1) == 2


def test_a_newer_store_is_refused(path: Path) -> None:
    GenomeStore(path).close()
    conn = raw(path)
    conn.execute(f"PRAGMA user_version = {migrations.SCHEMA_VERSION + 1}")
    conn.close()
    for readonly in (False, True):
        with pytest.raises(
            ValidationError,
            match=rf"newer Chimera: its schema version is {migrations.SCHEMA_VERSION + 1}.*"
            rf"reads schema versions 1 to {migrations.SCHEMA_VERSION}",
        ):
            GenomeStore(path, readonly=readonly)
    assert pragma(path, "user_version") == migrations.SCHEMA_VERSION + 1


def test_another_sqlite_database_is_refused_untouched(path: Path) -> None:
    conn = raw(path)
    conn.execute("CREATE TABLE t (a)")
    conn.close()
    content = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(ValidationError, match="SQLite database but not a Chimera genome store"):
            GenomeStore(path, readonly=readonly)
    assert path.read_bytes() == content
    assert not Path(f"{path}-wal").exists()


def test_other_files_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n")
    for readonly in (False, True):
        with pytest.raises(ValidationError, match="not a Chimera genome store: SQLite cannot"):
            GenomeStore(text, readonly=readonly)
    assert text.read_text() == "not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    garbage = tmp_path / "bad.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    with pytest.raises(ValidationError, match="SQLite cannot read it"):
        GenomeStore(garbage)
    with pytest.raises(ValidationError, match="is a folder"):
        GenomeStore(tmp_path)
    with pytest.raises(ValidationError, match="no genome store at"):
        GenomeStore(tmp_path / "missing.db", readonly=True)
    with pytest.raises(ValidationError, match="no such folder"):
        GenomeStore(tmp_path / "no" / "such.db")


def test_readonly_store_reads_and_never_writes(store: GenomeStore, path: Path) -> None:
    run = new_run(store)
    store.add_generation(run, 0, np.zeros((2, 3)), np.zeros(2))
    with GenomeStore(path, readonly=True) as ro:
        assert ro.experiment("exp") == 1
        assert ro.genomes(run).num_rows == 2
        with pytest.raises(ValidationError, match="readonly=True"):
            ro.add_generation(run, 1, np.zeros((2, 3)), np.zeros(2))
        with pytest.raises(ValidationError, match="readonly=True"):
            ro.truncate(run, -1)
        with pytest.raises(ValidationError, match="no experiment named 'new'"):
            ro.experiment("new")
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro._db.execute("DELETE FROM genome")
    assert store.genomes(run).num_rows == 2


# Concurrency -------------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from chimera.evolution.store import GenomeStore

    path, run, gens, pop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    rng = np.random.default_rng(0)
    with GenomeStore(path) as store:
        ids, last = None, store.last_generation(run)
        start = 0 if last is None else last + 1
        for gen in range(start, start + gens):
            parents = None if ids is None else rng.choice(ids, size=(pop, 2))
            ids = store.add_generation(
                run, gen, rng.random((pop, 8)), rng.random((pop, 2)), parents=parents
            )
    """
)


def run_writer(path: Path, *args: object) -> None:
    subprocess.run(
        [sys.executable, "-c", WRITER, str(path), *map(str, args)], check=True, timeout=120
    )


def test_opening_a_store_keeps_the_locks_of_open_readers(store: GenomeStore, path: Path) -> None:
    # Regression: a Python open()/close() of the file while opening a store dropped the POSIX
    # locks of every connection of this process to it, so a writer in another process saw no
    # reader, checkpointed under its snapshot and deleted the WAL on close.
    run = new_run(store, dim=8, n_obj=2)
    store.close()
    run_writer(path, run, 1, 4)
    with GenomeStore(path, readonly=True) as reader, reader._read() as db:
        assert db.execute("SELECT count(*) FROM genome").fetchone() == (4,)
        GenomeStore(path, readonly=True).close()
        GenomeStore(path).close()
        run_writer(path, run, 1, 4)
        assert Path(f"{path}-wal").exists()
        assert db.execute("SELECT count(*) FROM genome").fetchone() == (4,)


def test_readers_see_whole_generations_while_a_run_writes(store: GenomeStore, path: Path) -> None:
    gens, pop = 300, 40
    run = new_run(store, dim=8, n_obj=2)
    store.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(run), str(gens), str(pop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    seen: set[int] = set()
    reads = 0
    try:
        with GenomeStore(path, readonly=True) as reader:
            deadline = time.monotonic() + 120
            while writer.poll() is None and time.monotonic() < deadline:
                last = reader.last_generation(run)
                if last is None:
                    continue
                seen.add(last)
                # A fresh connection each time: opening must not fail mid-write either.
                with GenomeStore(path, readonly=True) as other:
                    assert other.genomes(run, last).num_rows == pop
                table = reader.genomes(run)
                counts = np.bincount(table.column("generation").to_numpy())
                assert counts.size >= last + 1
                assert np.all(counts == pop), counts
                # A later snapshot: the run may have written more generations since.
                best = reader.best_per_generation(run).column("generation").to_numpy()
                np.testing.assert_array_equal(best, np.arange(best.size))
                assert best.size >= counts.size
                reads += 1
        _, err = writer.communicate(timeout=120)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert writer.returncode == 0, err.decode()
    assert reads > 0 and len(seen) > 1 and min(seen) < gens - 1, (reads, sorted(seen))
    with GenomeStore(path, readonly=True) as reader:
        assert reader.genomes(run).num_rows == gens * pop
