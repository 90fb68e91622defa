"""The evolution strategies (chimera.strategies) against plain references of their update
equations, pycma's parameters, and the protocol's promises: restarts and resume bit for
bit, samples inside the bounds, bad input refused with the optimizer still usable."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chimera
import reference_es
from chimera.evolution import checkpoints
from chimera.strategies import CMAES, LMMAES, SepCMAES, models, noise
from chimera.strategies.parameters import parameters

WIDE = [(-1e6, 1e6)]  # bounds far enough that no sample is transformed


def sphere(X: np.ndarray) -> np.ndarray:
    return (X**2).sum(axis=1)


def ellipsoid(X: np.ndarray) -> np.ndarray:
    n = X.shape[1]
    return (10 ** (6 * np.arange(n) / (n - 1)) * X**2).sum(axis=1)


def rosenbrock(X: np.ndarray) -> np.ndarray:
    return (100 * (X[:, 1:] - X[:, :-1] ** 2) ** 2 + (1 - X[:, :-1]) ** 2).sum(axis=1)


def samples(seed: int, generation: int, lam: int, n: int) -> np.ndarray:
    """The documented sample rows: Stream(seed, generation, i, SAMPLE=9) (reference_es)."""
    return reference_es.standard_normal(seed, generation, lam, n)


def reference_cma_step(s: dict, Z: np.ndarray, f: np.ndarray, t: int) -> dict:
    """One generation of CMA-ES written from Hansen's tutorial (2016), as plainly as it reads:
    weights with active negatives (eq. 53), CSA, rank-one with h_sigma, active rank-mu (the
    damping as pycma 4 computes it for large mueff)."""
    n, lam = Z.shape[1], Z.shape[0]
    mu = lam // 2
    raw = np.log((lam + 1) / 2) - np.log(np.arange(1, lam + 1))
    w = raw.copy()
    w[:mu] /= raw[:mu].sum()
    mueff = 1 / np.sum(w[:mu] ** 2)
    cc = (4 + mueff / n) / (n + 4 + 2 * mueff / n)
    cs = (mueff + 2) / (n + mueff + 3)
    c1 = 2 / ((n + 1.3) ** 2 + mueff)
    cmu = min(1 - c1, 2 * (mueff - 2 + 1 / mueff + 0.25) / ((n + 2) ** 2 + mueff))
    inner = max(1, 3 * (1 - 0.5 ** (n / 9)))  # pycma 4's scale for large mueff
    damps = 1 + 2 * max(0, inner * math.sqrt((mueff - 1) / (n + 1)) - 1) + cs
    neg = raw[mu:]
    mueff_neg = neg.sum() ** 2 / np.sum(neg**2)
    w[mu:] = neg * min(1 + c1 / cmu, 1 + 2 * mueff_neg / (mueff + 2),
                       (1 - c1 - cmu) / (n * cmu)) / np.abs(neg).sum()  # fmt: skip
    chi = math.sqrt(n) * (1 - 1 / (4 * n) + 1 / (21 * n**2))
    B, D = s["B"], s["D"]
    invsqrt = B @ np.diag(1 / D) @ B.T
    y = np.array([B @ (D * z) for z in Z])
    order = np.argsort(f, kind="stable")
    y = y[order]
    yw = sum(w[i] * y[i] for i in range(mu))
    m = s["mean"] + s["sigma"] * yw
    ps = (1 - cs) * s["ps"] + math.sqrt(cs * (2 - cs) * mueff) * invsqrt @ yw
    hsig = float(ps @ ps) / (1 - (1 - cs) ** (2 * (t + 1))) / n < 2 + 4 / (n + 1)
    pc = (1 - cc) * s["pc"] + hsig * math.sqrt(cc * (2 - cc) * mueff) * yw
    wo = np.array([w[i] if w[i] >= 0 else w[i] * n / np.sum((invsqrt @ y[i]) ** 2)
                   for i in range(lam)])  # fmt: skip
    delta = (1 - hsig) * cc * (2 - cc)
    C = ((1 + c1 * delta - c1 - cmu * w.sum()) * s["C"] + c1 * np.outer(pc, pc)
         + cmu * sum(wo[i] * np.outer(y[i], y[i]) for i in range(lam)))  # fmt: skip
    sigma = s["sigma"] * math.exp(min(1, cs / damps * (np.linalg.norm(ps) / chi - 1)))
    return {"mean": m, "ps": ps, "pc": pc, "C": C, "sigma": sigma}


def cma_state(es: CMAES) -> dict:
    m = es._model
    return {"mean": es.mean.copy(), "sigma": es.sigma, "ps": es.ps.copy(), "pc": m.pc.copy(),
            "C": m.C.copy(), "B": m.B.copy(), "D": m.D.copy()}  # fmt: skip


@pytest.mark.parametrize(("n", "lam"), [(6, 8), (12, 12), (40, 14)])
def test_cmaes_generation_matches_the_tutorials_equations(n: int, lam: int) -> None:
    es = CMAES(WIDE * n, pop_size=lam, seed=3, x0=np.full(n, 0.5), sigma0=0.3,
               restarts="none")  # fmt: skip
    for g in range(25):
        X = es.ask()
        s = cma_state(es)  # after ask: its (lazy) decomposition is the one sampled from
        Z = samples(3, g, lam, n)
        np.testing.assert_allclose(X, s["mean"] + s["sigma"] * (Z * s["D"]) @ s["B"].T,
                                   rtol=1e-13, atol=1e-13)  # fmt: skip
        f = ellipsoid(X)
        want = reference_cma_step(s, Z, f, g)
        es.tell(f)
        got = cma_state(es)
        for key in ("mean", "ps", "pc", "C", "sigma"):
            np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-14,
                                       err_msg=f"{key} at generation {g}")  # fmt: skip


def test_the_decomposition_is_lazy_in_large_dimensions() -> None:
    n = 200
    es = CMAES([(-5, 5)] * n, seed=0, restarts="none")
    p = parameters(n, es.pop_size)
    gap = 1 / (models.LAG * n * (p.c1 + p.cmu))
    assert gap > 2
    decompositions = 0
    last = es._model.decomposed_at
    for _ in range(30):
        es.tell(sphere(es.ask()))
        if es._model.decomposed_at != last:
            decompositions += 1
            last = es._model.decomposed_at
    assert decompositions <= math.ceil(31 / math.floor(gap))


def test_parameters_are_pycmas() -> None:
    cma = pytest.importorskip("cma")
    for n, lam in [
        (3, 7),
        (10, 10),
        (10, 6),
        (100, 17),
        (1000, 24),
        (5, 40),
        (10, 320),
        (10, 5120),
        (40, 1000),
    ]:
        es = cma.CMAEvolutionStrategy(
            np.zeros(n),
            1.0,
            {"popsize": lam, "verbose": -9, "AdaptSigma": cma.sigma_adaptation.CMAAdaptSigmaCSA},
        )
        p = parameters(n, lam)
        sp = es.sp
        np.testing.assert_allclose(p.weights, np.asarray(sp.weights), rtol=1e-12, atol=1e-15)
        for ours, theirs in [(p.c1, sp.c1), (p.cmu, sp.cmu), (p.cc, sp.cc),
                             (p.mueff, sp.weights.mueff), (p.cs, es.adapt_sigma.cs),
                             (p.damps, es.adapt_sigma.damps)]:  # fmt: skip
            assert ours == pytest.approx(theirs, rel=1e-12)


def test_sep_cmaes_generation_matches_its_equations() -> None:
    n, lam = 8, 10
    es = SepCMAES(WIDE * n, pop_size=lam, seed=5, x0=np.ones(n), sigma0=0.5, restarts="none")
    p = parameters(n, lam, model="diagonal")
    base = parameters(n, lam)
    assert p.c1 == pytest.approx(base.c1 * (n + 2) / 3)
    assert p.cmu == pytest.approx(min(1 - p.c1, base.cmu * (n + 2) / 3))
    for g in range(20):
        X = es.ask()
        m, sigma, ps, pc, c = (
            es.mean.copy(),
            es.sigma,
            es.ps.copy(),
            es._model.pc.copy(),
            es._model.D**2,
        )
        Z = samples(5, g, lam, n)
        Y = Z * np.sqrt(c)
        np.testing.assert_allclose(X, m + sigma * Y, rtol=1e-13)
        f = ellipsoid(X)
        order = np.argsort(f, kind="stable")
        Y, Z = Y[order], Z[order]
        w = p.weights
        yw = w[: p.mu] @ Y[: p.mu]
        ps = (1 - p.cs) * ps + math.sqrt(p.cs * (2 - p.cs) * p.mueff) * (w[: p.mu] @ Z[: p.mu])
        hsig = ps @ ps / (1 - (1 - p.cs) ** (2 * (g + 1))) / n < 2 + 4 / (n + 1)
        pc = (1 - p.cc) * pc + hsig * math.sqrt(p.cc * (2 - p.cc) * p.mueff) * yw
        wo = np.where(w < 0, w * n / (Z**2).sum(axis=1), w)
        c1a = p.c1 * (1 - (1 - hsig) * p.cc * (2 - p.cc))
        c = (1 - c1a - p.cmu * w.sum()) * c + p.c1 * pc**2 + p.cmu * (wo[:, None] * Y**2).sum(0)
        es.tell(f)
        np.testing.assert_allclose(es.mean, m + sigma * yw, rtol=1e-12)
        np.testing.assert_allclose(es._model.D**2, c, rtol=1e-10)
        np.testing.assert_allclose(es.ps, ps, rtol=1e-10, atol=1e-14)


def test_lm_maes_generation_matches_its_equations() -> None:
    n, lam = 30, 12
    es = LMMAES(WIDE * n, pop_size=lam, seed=7, x0=np.ones(n), sigma0=0.5, restarts="none")
    p = parameters(n, lam, model="limited_memory", active=False)
    assert p.cs == min(0.5, 2 * lam / n)  # the paper's path rate, capped for small n
    m_vecs = 4 + int(3 * math.log(n))
    M = np.zeros((m_vecs, n))
    cd = 1 / (n * 1.5 ** np.arange(m_vecs))
    cc = np.minimum(1, lam / (n * 4.0 ** np.arange(m_vecs)))
    mean, sigma, ps = np.ones(n), 0.5, np.zeros(n)
    for g in range(15):
        X = es.ask()
        Z = samples(7, g, lam, n)
        D = Z.copy()
        for i in range(min(g, m_vecs)):
            D = (1 - cd[i]) * D + cd[i] * np.outer(D @ M[i], M[i])
        np.testing.assert_allclose(X, mean + sigma * D, rtol=1e-12, atol=1e-15)
        f = sphere(X)
        order = np.argsort(f, kind="stable")[: p.mu]
        w = p.weights[: p.mu]
        zw, dw = w @ Z[order], w @ D[order]
        mean = mean + sigma * dw
        ps = (1 - p.cs) * ps + math.sqrt(p.mueff * p.cs * (2 - p.cs)) * zw
        M = (1 - cc)[:, None] * M + np.sqrt(p.mueff * cc * (2 - cc))[:, None] * zw
        sigma *= math.exp(min(1, p.cs / 2 * (ps @ ps / n - 1)))
        es.tell(f)
        np.testing.assert_allclose(es.mean, mean, rtol=1e-12)
        assert es.sigma == pytest.approx(sigma, rel=1e-12)


@pytest.mark.parametrize("cls", [CMAES, SepCMAES, LMMAES])
@pytest.mark.parametrize("fun", [sphere, ellipsoid, rosenbrock])
def test_strategies_solve_unimodal_problems(cls: type, fun: object) -> None:
    if cls is not CMAES and fun is not sphere:
        pytest.skip("a diagonal or limited-memory model is not meant for these in 10-D")
    r = chimera.minimize(fun, [(-5, 5)] * 10, algorithm=cls.__name__.lower().replace(
        "sepcmaes", "sep_cmaes").replace("lmmaes", "lm_maes"), max_evals=20_000, seed=2)  # fmt: skip
    assert r.fun < 1e-8


def test_bipop_finds_rastrigins_global_minimum() -> None:
    def rastrigin(X: np.ndarray) -> np.ndarray:
        return 10 * X.shape[1] + (X**2 - 10 * np.cos(2 * np.pi * X)).sum(axis=1)

    solved = 0
    for seed in range(3):
        r = chimera.minimize(rastrigin, [(-5, 5)] * 5, algorithm="cmaes", max_evals=60_000,
                             seed=seed)  # fmt: skip
        solved += r.fun < 1e-8
    assert solved >= 2


def test_restart_schedules_follow_their_policy() -> None:
    def flat_then_sphere(X: np.ndarray) -> np.ndarray:
        return np.round(sphere(X), 1)  # plateaus stop runs early: many restarts

    for policy in ("ipop", "bipop"):
        es = CMAES([(-5, 5)] * 4, seed=1, restarts=policy, max_restarts=4)
        while es.stop_reason is None and es.nfev < 400_000:
            es.tell(flat_then_sphere(es.ask()))
        assert es.stop_reason is not None and "no restart left" in es.stop_reason
        lams = [r["pop_size"] for r in es.runs]
        large = [r for r in es.runs if r["regime"] == "large"]
        assert [r["pop_size"] for r in large] == [8 * 2**k for k in range(1, 5)]
        if policy == "ipop":
            assert lams == [8 * 2**k for k in range(5)]
        else:
            small = [r for r in es.runs[1:] if r["regime"] == "small"]
            assert small and all(8 <= r["pop_size"] <= max(lams) for r in small)
            assert all(r["sigma0"] <= es.sigma0 for r in small)
            assert len(large) == 4
        assert sum(r["evals"] for r in es.runs) == es.nfev


def run_to(es: CMAES, fun: object, generations: int) -> None:
    for _ in range(generations):
        es.tell(fun(es.ask()))  # type: ignore[operator]


@pytest.mark.parametrize("cls", [CMAES, SepCMAES, LMMAES])
@pytest.mark.parametrize(
    "options", [{}, {"mirrored": True, "bound_handling": "penalty"}, {"noise_handling": True}]
)
def test_resume_anywhere_is_bit_identical(cls: type, options: dict) -> None:
    def fun(X: np.ndarray) -> np.ndarray:
        return sphere(X - 0.3)

    bounds = [(-3, 2)] * (20 if cls is LMMAES else 5)  # LM-MA-ES is for many genes
    options = {"tolfun": 0.1, "tolx": 3e-2, **options}  # runs end early: many restarts
    straight = cls(bounds, seed=11, **options)
    run_to(straight, fun, 400)
    assert len(straight.runs) >= 2, "the run must cross restarts to test resuming in them"
    for at in (1, 57, 163, 290):
        first = cls(bounds, seed=11, **options)
        run_to(first, fun, at)
        if at % 2:
            first.ask()  # a checkpoint with an ask pending
        state = checkpoints.decode(checkpoints.encode(first.state_dict()))
        resumed = cls(bounds, seed=11, **options)
        resumed.load_state_dict(state)
        if at % 2:
            X = resumed.ask()
            resumed.tell(fun(X))
            at += 1
        run_to(resumed, fun, 400 - at)
        assert resumed.nfev == straight.nfev and resumed.runs == straight.runs
        np.testing.assert_array_equal(resumed.mean, straight.mean)
        np.testing.assert_array_equal(resumed.best_x, straight.best_x)
        assert resumed.sigma == straight.sigma


@pytest.mark.parametrize("handling", ["transform", "penalty"])
@pytest.mark.parametrize("cls", [CMAES, SepCMAES, LMMAES])
def test_samples_never_leave_the_bounds(cls: type, handling: str) -> None:
    low, high = np.array([1.0, -2, 0, 3]), np.array([2.0, 5, 0.001, 30])

    def outside_optimum(X: np.ndarray) -> np.ndarray:
        return ((X - np.array([-4.0, 9, 1, 0])) ** 2).sum(axis=1)

    es = cls(np.c_[low, high], seed=4, bound_handling=handling)
    for _ in range(300):
        X = es.ask()
        assert (low <= X).all() and (high >= X).all()
        es.tell(outside_optimum(X))
    best = np.clip([-4.0, 9, 1, 0], low, high)
    np.testing.assert_allclose(es.best_x, best, atol=0.05 * (high - low).max())


def test_mirrored_pairs_and_injected_solutions() -> None:
    es = CMAES(WIDE * 3, pop_size=8, seed=1, x0=np.zeros(3), mirrored=True)
    X = es.ask()
    np.testing.assert_allclose(X[:4], -X[4:], atol=1e-12)
    es.tell(sphere(X))
    es.inject([[0.1, 0.2, 0.3]])
    X = es.ask()
    np.testing.assert_allclose(X[0], [0.1, 0.2, 0.3])
    es.tell(sphere(X))
    with pytest.raises(chimera.ValidationError, match="cannot take injected solutions"):
        LMMAES(WIDE * 3, seed=1).inject([[0.0, 0.0, 0.0]])


def test_bad_input_is_refused_and_the_strategy_still_works() -> None:
    bounds = [(-5, 5)] * 3
    for kwargs, words in [({"sigma0": 0}, "sigma0"), ({"sigma0": -1.0}, "sigma0"),
                          ({"x0": [9, 0, 0]}, "x0"), ({"x0": [0, 0]}, "x0"),
                          ({"restarts": "lpop"}, "restarts"), ({"pop_size": 3}, "pop_size"),
                          ({"bound_handling": "clip"}, "bound_handling")]:  # fmt: skip
        with pytest.raises(chimera.ValidationError, match=words):
            CMAES(bounds, **kwargs)
    es = CMAES(bounds, seed=0)
    X = es.ask()
    for bad, words in [(np.ones(5), "shape"), (np.ones((8, 2)), "shape"),
                       (np.full(len(X), np.nan), "NaN")]:  # fmt: skip
        with pytest.raises(chimera.ChimeraError, match=words):
            es.tell(bad)
    for bad in ([[9.0, 0, 0]], [[np.nan, 0, 0]], np.ones((2, 2))):
        with pytest.raises(chimera.ValidationError, match="solutions"):
            es.inject(bad)
    es.tell(sphere(X))
    run_to(es, sphere, 50)
    assert es.best_f < 1e-3


def test_a_run_without_restarts_ends_the_loop_with_its_reason() -> None:
    r = chimera.minimize(sphere, [(-5, 5)] * 4, algorithm="cmaes", restarts="none",
                         max_evals=100_000, seed=0)  # fmt: skip
    assert r.message.startswith("stopped: tol") and r.nfev < 100_000 and r.fun < 1e-10


def test_cuda_is_refused_with_the_backends_that_work() -> None:
    with pytest.raises(chimera.ChimeraError, match=r"cpp|numba|cuda"):
        CMAES([(-1, 1)] * 2, backend="cuda")


@pytest.mark.parametrize("backend", ["cpp", "numba"])
@pytest.mark.parametrize(("cls", "n"), [(CMAES, 6), (LMMAES, 1030)])
def test_backends_run_the_same(backend: str, cls: type, n: int) -> None:
    # The same samples, and LM-MA-ES's products are kernels whose doubles are defined: the runs
    # agree bit for bit (1,030 genes: more than a column block of either product, and a tail
    # past the eight lanes).
    pytest.importorskip("numba")
    es = cls([(-5, 5)] * n, seed=9, backend=backend)
    ref = cls([(-5, 5)] * n, seed=9, backend="cpp")
    for _ in range(6):
        X, R = es.ask(), ref.ask()
        np.testing.assert_array_equal(X, R)
        es.tell(sphere(X))
        ref.tell(sphere(R))


def test_rank_change_is_negative_without_noise_and_positive_in_it() -> None:
    rng = np.random.default_rng(0)
    f = rng.random(20)
    assert noise.rank_change(f, f[:3].copy()) < 0  # the same values again: nothing moved
    drawn = [noise.rank_change(rng.random(20), rng.random(3)) for _ in range(200)]
    assert np.mean(drawn) > 0  # values unrelated to the first: the ranking is noise


def test_noise_handling_keeps_the_step_size_up_in_noise() -> None:
    """On a sphere under heavy additive noise the rank change turns positive and sigma stays
    far above the run without noise handling, whose steps collapse into the noise."""

    def noisy(seed: int) -> object:
        rng = np.random.default_rng(seed)
        return lambda X: sphere(X) + rng.normal(0, 1.0, len(X))

    plain = CMAES([(-5, 5)] * 5, seed=3, restarts="none")
    handled = CMAES([(-5, 5)] * 5, seed=3, restarts="none", noise_handling=True)
    assert handled.pop_size == plain.pop_size + 2
    f1, f2 = noisy(1), noisy(1)
    for _ in range(150):
        plain.tell(f1(plain.ask()))  # type: ignore[operator]
        X = handled.ask()
        handled.tell(f2(X))  # type: ignore[operator]
    assert handled.rank_change > 0
    assert handled.sigma > 3 * plain.sigma
    clean = CMAES([(-5, 5)] * 5, seed=3, restarts="none", noise_handling=True)
    run_to(clean, sphere, 120)
    assert clean.rank_change < 0 and clean.best_f < 1e-8


def test_mirrored_weights_are_those_of_the_pair_winners() -> None:
    p, kept = parameters(20, 12, mirrored=True), parameters(20, 6)
    np.testing.assert_array_equal(p.weights, np.r_[kept.weights, np.zeros(6)])
    assert p.lam == 12 and (p.mu, p.mueff, p.cs, p.c1, p.cmu, p.damps) == (
        kept.mu, kept.mueff, kept.cs, kept.c1, kept.cmu, kept.damps)  # fmt: skip


@pytest.mark.parametrize("cls", [CMAES, SepCMAES, LMMAES])
def test_mirrored_sampling_costs_few_more_evaluations_on_the_sphere(cls: type) -> None:
    # measured, 4 seeds: full 0.78x plain, sep 0.93x, LM-MA-ES 1.14x (before the winners'
    # weights: LM-MA-ES 3-4x with the box's transform)
    def evaluations(mirrored: bool, seed: int) -> int:
        es = cls(WIDE * 20, pop_size=24, seed=seed, restarts="none", mirrored=mirrored,
                 x0=np.full(20, 2.0), sigma0=1.0)  # fmt: skip
        while float(((es.mean - 0.3) ** 2).sum()) > 1e-10 and es.nfev < 50_000:
            X = es.ask()
            es.tell(sphere(X - 0.3))
        return es.nfev

    plain = np.median([evaluations(False, s) for s in range(4)])
    mirrored = np.median([evaluations(True, s) for s in range(4)])
    assert mirrored < 1.25 * plain, (mirrored, plain)


def test_a_gpu_jobs_backend_setting_leaves_the_strategies_on_the_cpu(
        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    # CHIMERA_BACKEND=cuda, as on a GPU node: whether CUDA loads or not (here it does not), a
    # strategy's auto is the CPU default and CUDA named outright is refused by name
    monkeypatch.setenv("CHIMERA_BACKEND", "cuda")
    assert CMAES([(-1, 1)] * 2).backend == "cpp"
    assert chimera.LSHADE([(-1, 1)] * 2).backend == "cpp"
    with pytest.raises(chimera.ValidationError, match="'cpp' or 'numba'"):
        CMAES([(-1, 1)] * 2, backend="cuda")


def test_termination_resumed_past_its_history_decides_as_the_straight_one() -> None:
    # recent (10 + 30 dim / lam) longer than the history a checkpoint keeps: a resumed run must
    # look at the same window as the straight one, generation after generation
    from chimera.strategies.termination import MAX_HISTORY, Termination, Tolerances

    def fresh() -> Termination:
        return Termination(3300, 4, 10**9, Tolerances(tolfunhist=1e-3))

    assert fresh().recent > MAX_HISTORY
    mean, stds = np.zeros(3), np.ones(3)

    def step(term: Termination, t: int) -> str | None:
        best = 5.0 if t == 500 else 1.0 - 1e-8 * t  # a spike older than the kept history
        return term.check(t, best + np.arange(4.0), mean, 1.0, 1.0, stds, None, 1.0, None)

    straight, at = fresh(), MAX_HISTORY + 1000
    for t in range(1, at):
        step(straight, t)
    resumed = fresh()
    resumed.load(checkpoints.decode(checkpoints.encode(straight.state())))()
    decisions = [(step(straight, t), step(resumed, t)) for t in range(at, at + 5000)]
    assert all(a == b for a, b in decisions)
    assert any(a is not None for a, _ in decisions)


def test_lm_maes_runs_in_one_dimension() -> None:
    es = LMMAES([(-5, 5)], seed=3, restarts="none")  # c_d = 1: the transform replaces d
    for _ in range(60):
        X = es.ask()
        assert np.isfinite(X).all()
        es.tell(sphere(X - 1.0))
    assert abs(es.best_x[0] - 1.0) < 1e-3


def test_mirrored_runs_stop_on_tolfun() -> None:
    # the pair losers rank as inf: the criteria must look at the winners only
    es = CMAES([(-5, 5)] * 4, seed=2, mirrored=True, restarts="none", tolfun=1e-6)
    while es.stop_reason is None and es.nfev < 20_000:
        es.tell(sphere(es.ask()))
    assert es.runs[0]["stop"] == "tolfun", es.runs


def test_lm_maes_loads_a_checkpoint_without_its_gram_matrix() -> None:
    es = LMMAES([(-3, 2)] * 20, seed=4)
    for _ in range(30):
        es.tell(sphere(es.ask()))
    state = checkpoints.decode(checkpoints.encode(es.state_dict()))
    del state["model_state"]["gram"]  # as written before the Gram matrix was kept
    resumed = LMMAES([(-3, 2)] * 20, seed=4)
    resumed.load_state_dict(state)
    M = resumed._model.M
    np.testing.assert_allclose(resumed._model.gram, M @ M.T, rtol=1e-12)
    resumed.tell(sphere(resumed.ask()))


def test_a_checkpoint_in_fortran_order_resumes_bit_for_bit() -> None:
    # the covariance is updated in place by BLAS: a loaded C of either memory order must be
    a, b = CMAES([(-3, 2)] * 6, seed=1), CMAES([(-3, 2)] * 6, seed=1)
    run_to(a, sphere, 20)
    state = checkpoints.decode(checkpoints.encode(a.state_dict()))
    state["model_state"]["C"] = np.asfortranarray(state["model_state"]["C"])
    b.load_state_dict(state)
    run_to(a, sphere, 30)
    run_to(b, sphere, 30)
    np.testing.assert_array_equal(a._model.C, b._model.C)
    np.testing.assert_array_equal(a.mean, b.mean)


@pytest.mark.parametrize("n", [2, 3])
def test_the_covariance_stays_positive_definite_in_few_dimensions(n: int) -> None:
    # With B and D decomposed every other generation at n = 2 and 3, the active update's
    # Mahalanobis lengths went stale and C turned indefinite in most runs on the ellipsoid.
    for seed in range(8):
        es = CMAES([(-5.0, 5.0)] * n, seed=seed, restarts="none")
        while es.stop_reason is None:
            es.tell(ellipsoid(es.ask()))
            assert np.linalg.eigvalsh(es._model.C).min() > 0, f"seed {seed}"
        assert es.best_f < 1e-12, f"seed {seed}: {es.stop_reason}"
