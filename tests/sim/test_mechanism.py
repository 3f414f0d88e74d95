import numpy as np
import pytest

from causalcell.sim import Clamp, Regulation, integrate, random_network, steady_state


@pytest.fixture(scope="module")
def net():
    return random_network(80, regulator_fraction=0.2, n_feedback=4, rng=0)


def _inputs(n_genes, n_cells=5, seed=1):
    return np.random.default_rng(seed).normal(size=(n_cells, n_genes))


def test_affine_steady_state_is_propagation_through_total_effects(net):
    b = _inputs(net.n_genes)
    x = steady_state(b, Regulation(net.G))
    expected = np.linalg.solve((np.eye(net.n_genes) - net.G).T, b.T).T
    np.testing.assert_allclose(x, expected, atol=1e-10)
    np.testing.assert_allclose(x, b + x @ net.G, atol=1e-10)  # fixed point x = b + x G


@pytest.mark.parametrize("hill_n", [None, 2.0])
@pytest.mark.parametrize("mrna", [True, False])
def test_clamped_steady_state_solves_the_intervened_system(net, hill_n, mrna):
    b = _inputs(net.n_genes)
    reg = Regulation(net.G, hill_n, setpoint=np.zeros(net.n_genes))
    genes = net.regulators[:2]
    values = np.full((b.shape[0], 2), -3.0)
    clamp = Clamp(genes, values, np.array([mrna, mrna]))
    x = steady_state(b, reg, clamp, tol=1e-12)
    u = x.copy()
    u[:, genes] = values  # activities clamped
    free = np.setdiff1d(np.arange(net.n_genes), genes)
    np.testing.assert_allclose(x[:, free], (b + reg.drive(u))[:, free], atol=1e-8)
    target = values if mrna else (b + reg.drive(u))[:, genes]
    np.testing.assert_allclose(x[:, genes], target, atol=1e-8)


def test_cells_converging_at_different_rates_all_reach_their_fixed_point(net):
    """Cells far into saturation converge slowly, cells near the set point at once: every cell
    satisfies its own fixed point, whatever other cells share the batch."""
    reg = Regulation(net.G, 2.0, setpoint=np.zeros(net.n_genes))
    b = _inputs(net.n_genes, n_cells=6) * np.array([0.01, 0.01, 1.0, 1.0, 4.0, 4.0])[:, None]
    x = steady_state(b, reg, tol=1e-12)
    np.testing.assert_allclose(x, b + reg.drive(x), atol=1e-9)
    alone = np.vstack([steady_state(b[[i]], reg, tol=1e-12) for i in range(len(b))])
    np.testing.assert_allclose(x, alone, atol=1e-9)


def test_knockout_of_gene_without_out_edges_moves_only_that_gene(net):
    leaf = np.flatnonzero(~(net.G != 0).any(axis=1))[0]
    b = _inputs(net.n_genes)
    for reg in (Regulation(net.G), Regulation(net.G, 2.0, setpoint=np.zeros(net.n_genes))):
        x0 = steady_state(b, reg)
        x1 = steady_state(b, reg, Clamp(np.array([leaf]), x0[:, [leaf]] - 4.6, np.array([True])))
        moved = np.flatnonzero(np.abs(x1 - x0).max(axis=0) > 1e-9)
        assert moved.tolist() == [leaf]


def test_hill_mechanism_is_linearised_by_G(net):
    """Near the set point the saturating mechanism responds like the affine one."""
    b0 = _inputs(net.n_genes, 1)
    reg_lin = Regulation(net.G)
    setpoint = steady_state(b0, reg_lin)[0]
    reg = Regulation(net.G, 2.0, setpoint=setpoint)
    np.testing.assert_allclose(steady_state(b0, reg)[0], setpoint, atol=1e-8)
    k, eps = net.regulators[0], 1e-4
    shift = np.zeros_like(b0)
    shift[0, k] = eps
    response = (steady_state(b0 + shift, reg) - setpoint)[0] / eps
    np.testing.assert_allclose(response, reg_lin.T[k], atol=1e-3)
    big = (steady_state(b0 + 5e4 * shift, reg) - setpoint)[0]  # +5 log units at gene k
    others = np.arange(net.n_genes) != k
    assert np.abs(big[others]).sum() < 0.5 * np.abs(5 * reg_lin.T[k, others]).sum()  # saturates


def test_degron_response_is_direct_to_first_order_in_time(net):
    reg = Regulation(net.G)
    k = net.regulators[np.argmax((net.G[net.regulators] != 0).sum(axis=1))]
    b = _inputs(net.n_genes, 2)
    tau = np.random.default_rng(2).uniform(0.5, 3, net.n_genes)
    x0 = steady_state(b, reg)
    drop = -4.0
    clamp = Clamp(np.array([k]), x0[:, [k]] + drop, np.array([False]))
    # first-order prediction: only direct targets move, at rate G[k, j] * drop / tau_j
    pred = drop * net.G[k] / tau
    errors = []
    for t in (0.02, 0.04):
        dx = integrate(x0, b, reg, tau, [t], clamp=clamp, dt=t / 20)[0] - x0
        np.testing.assert_allclose(dx[:, net.G[k] == 0], 0, atol=2 * t**2)  # indirect: O(t^2)
        errors.append(np.abs(dx / t - pred).max())
    assert errors[1] == pytest.approx(2 * errors[0], rel=0.1)  # error of dx/t is O(t)
    assert errors[0] < 0.05 * np.abs(pred).max()


def test_ode_stays_at_steady_state_and_relaxes_to_clamped_state(net):
    reg = Regulation(net.G)
    b = _inputs(net.n_genes, 2)
    tau = np.ones(net.n_genes)
    x0 = steady_state(b, reg)
    np.testing.assert_allclose(integrate(x0, b, reg, tau, [2.0])[0], x0, atol=1e-10)
    k = net.regulators[0]
    clamp = Clamp(np.array([k]), x0[:, [k]] - 2, np.array([True]))
    late = integrate(x0, b, reg, tau, [40.0], clamp=clamp, dt=0.1)[0]
    np.testing.assert_allclose(late, steady_state(b, reg, clamp), atol=1e-6)
