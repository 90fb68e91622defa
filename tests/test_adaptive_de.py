"""Adaptive differential evolution (chimera.strategies.differential) against a plain reference
of a generation's equations recomputed from the documented streams, and the protocol's
promises: the population size schedule, the memory's weighted Lehmer means, trials inside the
bounds, bad input refused with the optimizer still usable, resume bit for bit, and quality on
sphere and Rastrigin."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import chimera
from chimera import _core, algorithms
from chimera.evolution import checkpoints
from chimera.strategies.differential import JSO, LSHADE, AdaptiveDE

PARAMETERS, CROSSOVER, GENERATION_ROW = 11, 12, 2**32 - 1  # the module's documented streams


def sphere(X: np.ndarray) -> np.ndarray:
    return (X**2).sum(axis=1)


def rastrigin(X: np.ndarray) -> np.ndarray:
    return 10 * X.shape[1] + (X**2 - 10 * np.cos(2 * np.pi * X)).sum(axis=1)


def run_to(opt: AdaptiveDE, fun: object, generations: int) -> None:
    for _ in range(generations):
        opt.tell(fun(opt.ask()))  # type: ignore[operator]


def c_round(x: float) -> int:
    return math.floor(x + 0.5)


def reference_generation(s: dict, seed: int, g: int, fun: object) -> dict:
    """One generation of L-SHADE (or DE/rand/1 with its adaptation) written from the paper as
    plainly as it reads, each draw taken from the stream the module documents: the trials,
    then selection, archive, memory and the population reduction."""
    X, f, A = s["pop"], s["f"], s["archive"]
    MF, MCR, H = s["memory_f"].copy(), s["memory_cr"].copy(), len(s["memory_f"])
    N, D = X.shape
    low, high = s["low"], s["high"]
    union = np.concatenate([X, A])
    order = sorted(range(N), key=lambda j: (f[j], j))
    n_best = max(2, c_round(s["p"] * N))
    trials, Fs, CRs = np.empty_like(X), [], []
    for i in range(N):
        u = _core.rng.uniform(seed, g, i, PARAMETERS, 200)
        r = min(int(u[0] * H), H - 1)
        if math.isnan(MCR[r]):
            CR = 0.0
        else:
            z = math.sqrt(-2 * math.log(1 - u[1])) * math.cos(2 * math.pi * u[2])
            CR = min(1.0, max(0.0, MCR[r] + 0.1 * z))
        F = next(F for t in u[6:] if (F := MF[r] + 0.1 * math.tan(math.pi * (t - 0.5))) > 0)
        F = min(F, 1.0)

        def pick(x: float, rows: list[int]) -> int:
            return rows[min(int(x * len(rows)), len(rows) - 1)]

        if s["strategy"] == "current-to-pbest/1":
            pbest = order[min(int(u[3] * n_best), n_best - 1)]
            r1 = pick(u[4], [j for j in range(N) if j != i])
            r2 = pick(u[5], [j for j in range(N + len(A)) if j not in (i, r1)])
            v = X[i] + F * (X[pbest] - X[i]) + F * (X[r1] - union[r2])
        else:
            r0 = pick(u[3], [j for j in range(N) if j != i])
            r1 = pick(u[4], [j for j in range(N) if j not in (i, r0)])
            r2 = pick(u[5], [j for j in range(N + len(A)) if j not in (i, r0, r1)])
            v = X[r0] + F * (X[r1] - union[r2])
        c = _core.rng.uniform(seed, g, i, CROSSOVER, D + 1)
        j_rand = min(int(c[0] * D), D - 1)
        for j in range(D):
            if v[j] < low[j]:
                v[j] = (low[j] + X[i, j]) / 2
            elif v[j] > high[j]:
                v[j] = (high[j] + X[i, j]) / 2
            trials[i, j] = v[j] if (c[1 + j] < CR or j == j_rand) else X[i, j]
        Fs.append(F)
        CRs.append(CR)
    ft = fun(trials)  # type: ignore[operator]
    pop, fit, archive = X.copy(), f.copy(), [a for a in A]
    SF, SCR, dF = [], [], []
    for i in range(N):
        if ft[i] < f[i]:
            archive.append(X[i].copy())
            SF.append(Fs[i])
            SCR.append(CRs[i])
            dF.append(abs(f[i] - ft[i]))
        if ft[i] <= f[i]:
            pop[i], fit[i] = trials[i], ft[i]
    k = s["memory_slot"]
    if SF:
        w = np.array(dF) / sum(dF)
        MF[k] = sum(w * np.square(SF)) / sum(w * np.array(SF))
        if math.isnan(MCR[k]) or max(SCR) == 0:
            MCR[k] = math.nan
        else:
            MCR[k] = sum(w * np.square(SCR)) / sum(w * np.array(SCR))
        k = (k + 1) % H
    nfev = s["nfev"] + N
    n_next = c_round((s["min_pop_size"] - s["n_init"]) / s["max_evals"] * nfev + s["n_init"])
    n_next = min(N, max(s["min_pop_size"], n_next))
    keep = sorted(sorted(range(N), key=lambda j: (fit[j], j))[:n_next])
    cap = c_round(s["archive_rate"] * n_next)
    if len(archive) > cap:
        key = _core.rng.uniform(seed, g, GENERATION_ROW, PARAMETERS, len(archive))
        archive = [archive[j] for j in sorted(sorted(range(len(archive)),
                                                     key=lambda j: (key[j], j))[:cap])]  # fmt: skip
    return {"trials": trials, "F": np.array(Fs), "CR": np.array(CRs), "pop": pop[keep],
            "f": fit[keep], "archive": np.array(archive).reshape(-1, D), "memory_f": MF,
            "memory_cr": MCR, "memory_slot": k}  # fmt: skip


def snapshot(opt: AdaptiveDE) -> dict:
    assert opt.population is not None and opt.fitness is not None
    return {"pop": opt.population.copy(), "f": opt.fitness.copy(), "archive": opt.archive.copy(),
            "memory_f": opt.memory_f.copy(), "memory_cr": opt.memory_cr.copy(),
            "memory_slot": opt.memory_slot, "p": opt.p, "strategy": opt.strategy,
            "low": opt.low, "high": opt.high, "nfev": opt.nfev,
            "min_pop_size": opt.min_pop_size, "n_init": opt.config()["pop_size"],
            "max_evals": opt.max_evals, "archive_rate": opt.archive_rate}  # fmt: skip


@pytest.mark.parametrize("strategy", ["current-to-pbest/1", "rand/1"])
def test_lshade_generation_matches_the_papers_equations(strategy: str) -> None:
    def fun(X: np.ndarray) -> np.ndarray:
        return np.round(rastrigin(X - 0.7), 1)  # ties: trials that equal their parent

    seed, bounds = 21, [(-2.0, 3.0), (-1.0, 1.0), (0.0, 5.0), (-4.0, -3.0)]
    opt = LSHADE(bounds, pop_size=16, max_evals=900, seed=seed, strategy=strategy)
    X0 = opt.ask()
    initial = np.empty((16, 4))  # the GA's initial population for the seed
    _core.ga.init_uniform(initial, opt.low, opt.high, seed)
    np.testing.assert_array_equal(X0, initial)
    opt.tell(fun(X0))
    checked = {"archive": 0, "reduced": 0}
    for g in range(1, 45):
        s = snapshot(opt)
        want = reference_generation(s, seed, g, fun)
        X = opt.ask()
        np.testing.assert_allclose(X, want["trials"], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(opt._trial_f, want["F"], rtol=1e-13)
        np.testing.assert_array_equal(opt._trial_cr, want["CR"])
        opt.tell(fun(X))
        np.testing.assert_allclose(opt.population, want["pop"], rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(opt.fitness, want["f"])
        np.testing.assert_allclose(opt.archive, want["archive"], rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(opt.memory_f, want["memory_f"], rtol=1e-12)
        np.testing.assert_allclose(opt.memory_cr, want["memory_cr"], rtol=1e-12)
        assert opt.memory_slot == want["memory_slot"] and opt.pop_size == len(want["pop"])
        checked["archive"] += len(s["archive"]) > 0
        checked["reduced"] += opt.pop_size < len(s["pop"])
    assert checked["archive"] and checked["reduced"], checked


def test_the_population_shrinks_linearly_and_loses_its_worst() -> None:
    dim, budget = 5, 4000
    opt = LSHADE([(-5, 5)] * dim, seed=3, max_evals=budget)
    assert opt.pop_size == 90
    opt.tell(sphere(opt.ask()))
    sizes = [opt.pop_size]
    while opt.stop_reason is None:
        f = opt.fitness.copy()  # type: ignore[union-attr]
        X = opt.ask()
        ft = sphere(X)
        opt.tell(ft)
        planned = c_round((4 - 90) / budget * opt.nfev + 90)
        assert opt.pop_size == max(4, min(sizes[-1], planned))
        assert opt.population.shape == (opt.pop_size, dim)  # type: ignore[union-attr]
        merged = np.where(ft <= f, ft, f)
        kept = np.sort(opt.fitness)  # type: ignore[arg-type]
        np.testing.assert_array_equal(kept, np.sort(merged)[: opt.pop_size])
        assert opt.archive.shape[0] <= c_round(2.6 * opt.pop_size)
        sizes.append(opt.pop_size)
    assert sizes[-1] == 4 and opt.nfev >= budget and "max_evals" in str(opt.stop_reason)
    assert all(a >= b for a, b in itertools.pairwise(sizes))


@pytest.mark.parametrize(
    ("cls", "dim", "n"),
    [(LSHADE, 10, 180), (JSO, 10, 182), (LSHADE, 1, 18), (JSO, 1, 4), (JSO, 30, 466)],
)
def test_initial_population_sizes_are_the_papers(cls: type, dim: int, n: int) -> None:
    assert cls([(-1, 1)] * dim, seed=0).pop_size == n
    assert cls.population_size({}, 1, dim) == n
    assert cls.population_size({"pop_size": 50}, 1, None) == 50


def test_memory_update_is_the_weighted_lehmer_mean() -> None:
    SF, SCR, df = np.array([0.5, 1.0]), np.array([0.2, 0.6]), np.array([1.0, 3.0])
    # weights 1/4, 3/4: F (1/16 + 3/4) / (1/8 + 3/4) = 13/14, CR (0.01 + 0.27) / (0.05 + 0.45)
    lshade = LSHADE([(-1, 1)] * 2, seed=0)
    lshade._update_memory(SF, SCR, df)
    assert lshade.memory_f[0] == pytest.approx(13 / 14, rel=1e-15)
    assert lshade.memory_cr[0] == pytest.approx(0.56, rel=1e-15)
    assert lshade.memory_slot == 1 and (lshade.memory_f[1:] == 0.5).all()
    jso = JSO([(-1, 1)] * 2, seed=0)
    jso._update_memory(SF, SCR, df)
    assert jso.memory_f[0] == pytest.approx((0.3 + 13 / 14) / 2, rel=1e-15)
    assert jso.memory_cr[0] == pytest.approx((0.8 + 0.56) / 2, rel=1e-15)
    for _ in range(3):  # the last slot never learns: writes cycle over the first four
        jso._update_memory(SF, np.zeros(2), df)
    assert jso.memory_slot == 0 and (jso.memory_f[-1], jso.memory_cr[-1]) == (0.9, 0.9)
    assert np.isnan(jso.memory_cr[1:4]).all()
    jso._update_memory(SF, SCR, df)  # all CR 0 earlier: slot 0 learns again, slot 1 stays
    jso._update_memory(SF, SCR, df)
    assert not np.isnan(jso.memory_cr[0]) and np.isnan(jso.memory_cr[1])
    lshade._update_memory(SF, SCR, np.array([np.inf, 1.0]))  # beat an infinite value
    assert lshade.memory_f[1] == pytest.approx(0.5) and lshade.memory_cr[1] == pytest.approx(0.2)
    lshade._update_memory(SF[:0], SCR[:0], df[:0])  # no success: nothing learnt
    assert lshade.memory_slot == 2


def test_jso_schedules() -> None:
    opt = JSO([(-1, 1)] * 3, seed=0, max_evals=1000)
    F, CR = np.array([0.1, 0.75, 1.0]), np.array([0.0, 0.65, 0.9])
    for progress, f, cr, w in [(0.1, [0.1, 0.7, 0.7], [0.7, 0.7, 0.9], 0.7),
                               (0.3, [0.1, 0.7, 0.7], [0.6, 0.65, 0.9], 0.8),
                               (0.55, [0.1, 0.7, 0.7], [0.0, 0.65, 0.9], 1.2),
                               (0.7, [0.1, 0.75, 1.0], [0.0, 0.65, 0.9], 1.2)]:  # fmt: skip
        got_f, got_cr, fw = opt._schedule(F, CR, progress)
        np.testing.assert_array_equal(got_f, f)
        np.testing.assert_array_equal(got_cr, cr)
        np.testing.assert_allclose(fw, w * np.array(f), rtol=1e-15)
    assert opt._pbest_rate(0.0) == 0.25 and opt._pbest_rate(0.5) == 0.1875
    assert opt._pbest_rate(1.0) == opt._pbest_rate(3.0) == 0.125


@pytest.mark.parametrize("cls", [LSHADE, JSO])
@pytest.mark.parametrize("strategy", ["current-to-pbest/1", "rand/1"])
def test_trials_never_leave_the_bounds(cls: type, strategy: str) -> None:
    low, high = np.array([1.0, -2, 0, 3]), np.array([2.0, 5, 0.001, 30])
    target = np.array([-4.0, 9, 1, 0])  # outside the box: the best lie on its faces

    def outside_optimum(X: np.ndarray) -> np.ndarray:
        return ((X - target) ** 2).sum(axis=1)

    opt = cls(np.c_[low, high], seed=4, max_evals=3000, strategy=strategy)
    while opt.nfev + opt.pop_size <= 3000:
        X = opt.ask()
        assert (low <= X).all() and (high >= X).all()
        opt.tell(outside_optimum(X))
    assert ((low <= opt.archive) & (opt.archive <= high)).all()
    np.testing.assert_allclose(opt.best_x, np.clip(target, low, high), atol=1e-3)


def test_bad_input_is_refused_and_the_optimizer_still_works() -> None:
    bounds = [(-5, 5)] * 3
    for cls, kwargs, words in [
        (LSHADE, {"pop_size": 3}, "pop_size"), (LSHADE, {"min_pop_size": 3}, "min_pop_size"),
        (LSHADE, {"pop_size": 10, "min_pop_size": 12}, "pop_size"),
        (LSHADE, {"max_evals": 0}, "max_evals"), (LSHADE, {"max_evals": 1.5}, "max_evals"),
        (LSHADE, {"memory_size": 0}, "memory_size"), (JSO, {"memory_size": 1}, "memory_size"),
        (LSHADE, {"archive_rate": -0.1}, "archive_rate"), (LSHADE, {"p": 0}, "p"),
        (JSO, {"p": 1.5}, "p"), (LSHADE, {"strategy": "best/1"}, "strategy"),
        (LSHADE, {"nan_policy": "ignore"}, "nan_policy"), (LSHADE, {"maximize": 1}, "maximize"),
    ]:  # fmt: skip
        with pytest.raises((chimera.ValidationError, TypeError), match=words):
            cls(bounds, **kwargs)
    with pytest.raises(chimera.ChimeraError, match=r"cpp|numba|cuda"):
        LSHADE(bounds, backend="cuda")
    with pytest.raises(chimera.ValidationError, match="pop_size"):
        LSHADE.population_size({})
    opt = LSHADE(bounds, seed=0, max_evals=2000)
    with pytest.raises(chimera.StateError):
        opt.tell(np.zeros(54))
    for _ in range(2):  # refused at the initial population, then at a trial generation
        X = opt.ask()
        n = len(X)
        for bad, words in [(np.ones(5), "shape"), (np.ones((n, 2)), "shape"),
                           (np.full(n, np.nan), "NaN"), (np.array(["a"] * n), "numeric")]:  # fmt: skip
            with pytest.raises(chimera.ChimeraError, match=words):
                opt.tell(bad)
        np.testing.assert_array_equal(opt.ask(), X)
        opt.tell(sphere(X))
    other = JSO(bounds, seed=0, max_evals=2000)
    with pytest.raises(chimera.ValidationError, match="checkpoint"):
        other.load_state_dict(opt.state_dict())
    state = opt.state_dict()
    state["memory_f"] = np.full(6, -1.0)
    with pytest.raises(chimera.ValidationError, match="memory_f"):
        LSHADE(bounds, seed=0, max_evals=2000).load_state_dict(state)
    run_to(opt, sphere, 30)
    assert opt.best_f < 1e-3
    worst = LSHADE(bounds, seed=0, max_evals=2000, nan_policy="worst")
    for _ in range(20):
        X = worst.ask()
        f = sphere(X)
        f[::3] = np.nan
        worst.tell(f)
    assert np.isfinite(worst.best_f)


def test_maximize_and_the_registry_reads_the_classes() -> None:
    opt = LSHADE([(-5, 5)] * 4, seed=1, maximize=True, max_evals=3000)
    while opt.stop_reason is None:
        opt.tell(-sphere(opt.ask()))
    assert opt.best_f > -1e-6 and (opt.fitness <= 0).all()  # type: ignore[operator]
    for name, cls in (("lshade", LSHADE), ("jso", JSO)):
        algorithms._check_constructor(cls)
        entry = algorithms.Algorithm(name, cls, "adaptive DE")
        assert not [k for k, o in entry.options.items() if not o.doc]
        assert {"strategy", "p", "archive_rate"} <= set(entry.options)
        assert "max_evals" in entry.parameters  # the run's budget, set by minimize and specs
        assert entry.population_size({}, 1, 10) == cls([(-1, 1)] * 10).pop_size


@pytest.mark.parametrize("cls", [LSHADE, JSO])
@pytest.mark.parametrize("strategy", ["current-to-pbest/1", "rand/1"])
def test_resume_anywhere_is_bit_identical(cls: type, strategy: str) -> None:
    def fun(X: np.ndarray) -> np.ndarray:
        return np.round(rastrigin(X - 0.3), 3)

    bounds, total = [(-3, 2)] * 4, 240
    options = {"seed": 11, "max_evals": 5000, "strategy": strategy}
    straight = cls(bounds, **options)
    run_to(straight, fun, total)
    assert straight.pop_size < straight.config()["pop_size"] and straight.stop_reason
    for at in (0, 1, 23, 77, 130, 210):
        for pending in (False, True):
            first = cls(bounds, **options)
            run_to(first, fun, at)
            if pending:
                first.ask()
            state = checkpoints.decode(checkpoints.encode(first.state_dict()))
            resumed = cls(bounds, **options)
            resumed.load_state_dict(state)
            run_to(resumed, fun, total - at)
            assert resumed.nfev == straight.nfev and resumed.pop_size == straight.pop_size
            for key in ("population", "fitness", "archive", "memory_f", "memory_cr", "best_x"):
                np.testing.assert_array_equal(getattr(resumed, key), getattr(straight, key))
            assert resumed.memory_slot == straight.memory_slot


def test_backends_draw_the_same_numbers() -> None:
    pytest.importorskip("numba")
    opts = {"seed": 9, "max_evals": 3000}
    a, b = LSHADE([(-5, 5)] * 6, backend="numba", **opts), LSHADE([(-5, 5)] * 6, **opts)
    for _ in range(6):
        X, Y = a.ask(), b.ask()
        np.testing.assert_array_equal(X, Y)
        a.tell(rastrigin(X))
        b.tell(rastrigin(Y))


def run(opt: AdaptiveDE, fun: object, budget: int) -> float:
    """Whole generations while they fit in the budget, as chimera.minimize runs them."""
    while opt.nfev + opt.pop_size <= budget:
        opt.tell(fun(opt.ask()))  # type: ignore[operator]
    return opt.best_f


def test_lshade_solves_sphere_and_beats_scipy_on_rastrigin() -> None:
    optimize = pytest.importorskip("scipy.optimize")
    dim, budget, bounds = 10, 20_000, [(-5.0, 5.0)] * 10
    for cls in (LSHADE, JSO):
        assert run(cls(bounds, seed=0, max_evals=budget), sphere, budget) < 1e-8
    ours, theirs = [], []
    for seed in range(3):
        ours.append(run(LSHADE(bounds, seed=seed, max_evals=budget), rastrigin, budget))
        popsize = 15  # scipy's default, per gene; budget-equal: no polish, no early stop
        r = optimize.differential_evolution(
            lambda x: float(rastrigin(x[None, :])[0]), bounds, seed=seed, polish=False, tol=0,
            maxiter=budget // (popsize * dim) - 1,
        )  # fmt: skip
        assert r.nfev <= budget
        theirs.append(r.fun)
    assert np.median(ours) < np.median(theirs), (ours, theirs)
