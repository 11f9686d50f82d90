"""Our LSTM against torch.nn.LSTM and an independent NumPy implementation of the equations, in float64."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from lstm_sentiment.lstm import LSTM, LSTMCell
from lstm_sentiment.native import lstm_steps
from lstm_sentiment.recurrence import Recurrence

TOL = {"rtol": 1e-10, "atol": 1e-12}


@pytest.fixture(autouse=True, params=["compiled", "python"])
def step_loop(request, monkeypatch):
    """Every test runs twice: with the compiled step kernel and with the Python loop of tensor operations."""
    if request.param == "python":
        monkeypatch.setenv("LSTM_SENTIMENT_NATIVE", "0")
    elif lstm_steps() is None:
        pytest.skip("the step kernel could not be built here (no C++ compiler?)")
    return request.param


@pytest.mark.skipif(shutil.which("c++") is None, reason="no C++ compiler")
def test_step_kernel_builds_where_a_compiler_exists(step_loop):
    if step_loop == "compiled":
        assert lstm_steps() is not None


@pytest.mark.parametrize("dtype, tol", [(torch.float64, TOL), (torch.float32, {"rtol": 1e-5, "atol": 1e-6})])
def test_compiled_and_python_loops_agree(dtype, tol, monkeypatch, step_loop):
    if step_loop == "python":
        pytest.skip("compares both loops in one run")
    torch.manual_seed(3)
    inputs = [torch.randn(*shape, dtype=dtype, requires_grad=True)
              for shape in ((9, 4, 6), (32, 6), (32,), (32, 8), (4, 8), (4, 8))]
    mask = torch.bernoulli(torch.full((4, 8), 0.8, dtype=dtype)) / 0.8
    results = []
    for native in ("1", "0"):
        monkeypatch.setenv("LSTM_SENTIMENT_NATIVE", native)
        outputs, cells, acts = Recurrence.apply(*inputs, mask)
        grads = torch.autograd.grad((outputs.sin().sum() + cells.cos().sum()), inputs)
        results.append((outputs, cells, acts, *grads))
    for compiled, python in zip(*results):
        torch.testing.assert_close(compiled, python, **tol)


def make_pair(input_size=5, hidden=7, layers=2, bidirectional=False, seed=0):
    torch.manual_seed(seed)
    reference = torch.nn.LSTM(input_size, hidden, num_layers=layers, bidirectional=bidirectional,
                              batch_first=True).double()
    ours = LSTM(input_size, hidden, num_layers=layers, bidirectional=bidirectional).double()
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def reference_per_sequence(reference, x, lengths):
    """nn.LSTM on each unpadded sequence on its own: the ground truth for padding invisibility."""
    return [reference(x[b: b + 1, : int(length)]) for b, length in enumerate(lengths)]


def test_parameter_names_and_shapes_match_torch():
    reference, ours = make_pair(bidirectional=True)
    assert {k: v.shape for k, v in ours.state_dict().items()} == {k: v.shape for k, v in reference.state_dict().items()}
    reference.load_state_dict(ours.state_dict())  # and back


@pytest.mark.parametrize("path", ["explicit", "fused"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_equal_to_torch_without_lengths(path, bidirectional):
    reference, ours = make_pair(bidirectional=bidirectional)
    ours.path = path
    x = torch.randn(3, 6, 5, dtype=torch.float64, requires_grad=True)
    out, (h, c) = ours(x)
    ref_out, (ref_h, ref_c) = reference(x)
    torch.testing.assert_close(out, ref_out, **TOL)
    torch.testing.assert_close(h, ref_h, **TOL)
    torch.testing.assert_close(c, ref_c, **TOL)
    grads = torch.autograd.grad((out ** 2).sum() + h.sum() + c.sum(), [x, *ours.parameters()])
    ref_grads = torch.autograd.grad((ref_out ** 2).sum() + ref_h.sum() + ref_c.sum(), [x, *reference.parameters()])
    for ours_grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(ours_grad, ref_grad, **TOL)


@pytest.mark.parametrize("path", ["explicit", "fused", "packed", "fused_no_cell"])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_padding_is_invisible(path, bidirectional, side, monkeypatch):
    """Final states and valid outputs equal nn.LSTM's on each unpadded sequence; padded outputs are zero."""
    reference, ours = make_pair(bidirectional=bidirectional)
    ours.path = "explicit" if path == "explicit" else "fused"
    if path == "packed":  # the cuDNN route, exercised on CPU
        monkeypatch.setattr(ours, "_fused_segments", ours._fused_packed)
    lengths = torch.tensor([9, 3, 6, 1, 0])
    steps = 9
    data = torch.randn(len(lengths), steps, 5, dtype=torch.float64)
    x = torch.zeros_like(data)
    for b, length in enumerate(lengths):
        if side == "right":
            x[b, :length] = data[b, :length]
        else:
            x[b, steps - length:] = data[b, :length]
    x.requires_grad_(True)
    with_cell = path != "fused_no_cell"
    out, (h, c) = ours(x, lengths, padding_side=side, need_cell_state=with_cell)
    if not with_cell:
        assert c is None
        c = torch.zeros_like(h)
    loss = (out ** 2).sum() + h.sum() + 1.5 * c.sum()
    grads = torch.autograd.grad(loss, [x, *ours.parameters()])

    ref_loss = 0
    for b, (ref_out, (ref_h, ref_c)) in enumerate(reference_per_sequence(reference, data, lengths.clamp(min=1))):
        length = int(lengths[b])
        if length == 0:  # an empty sequence keeps the initial (zero) state and has no outputs
            assert torch.all(out[b] == 0) and torch.all(h[:, b] == 0) and torch.all(c[:, b] == 0)
            continue
        valid = slice(0, length) if side == "right" else slice(steps - length, steps)
        torch.testing.assert_close(out[b, valid], ref_out[0], **TOL)
        torch.testing.assert_close(h[:, b], ref_h[:, 0], **TOL)
        if with_cell:
            torch.testing.assert_close(c[:, b], ref_c[:, 0], **TOL)
        padded = torch.ones(steps, dtype=torch.bool)
        padded[valid] = False
        assert torch.all(out[b, padded] == 0)
        ref_loss = ref_loss + (ref_out ** 2).sum() + ref_h.sum() + 1.5 * ref_c.sum() * with_cell
    ref_params = list(reference.parameters())
    ref_grads = torch.autograd.grad(ref_loss, ref_params)
    for ours_grad, ref_grad in zip(grads[1:], ref_grads):
        torch.testing.assert_close(ours_grad, ref_grad, **TOL)


def test_gradcheck_explicit_recurrence_with_dropout_mask():
    torch.manual_seed(0)
    x = torch.randn(6, 3, 5, dtype=torch.float64, requires_grad=True)
    w_ih = torch.randn(16, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(16, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(16, 4, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.bernoulli(torch.full((3, 4), 0.7, dtype=torch.float64)) / 0.7
    inputs = (x, w_ih, bias, w_hh, h0, c0)
    assert torch.autograd.gradcheck(lambda *a: Recurrence.apply(*a, mask)[:2], inputs)
    assert torch.autograd.gradcheck(lambda *a: Recurrence.apply(*a, None)[:2], inputs)
    assert torch.autograd.gradcheck(lambda *a: Recurrence.apply(*a, None)[0][-1], inputs)  # only h_T used


def test_gradcheck_whole_explicit_layer():
    torch.manual_seed(1)
    ours = LSTM(3, 4, bidirectional=True, path="explicit").double()
    x = torch.randn(2, 5, 3, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([5, 3])
    assert torch.autograd.gradcheck(lambda inp: ours(inp, lengths)[0], (x,))


def numpy_lstm(x, w_ih, w_hh, b_ih, b_hh):
    """The equations in plain NumPy, written from DEVELOPERS.md, one sequence [time, input]."""
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    hidden = w_hh.shape[1]
    w = {gate: (w_ih[k * hidden:(k + 1) * hidden], w_hh[k * hidden:(k + 1) * hidden],
                b_ih[k * hidden:(k + 1) * hidden] + b_hh[k * hidden:(k + 1) * hidden])
         for k, gate in enumerate("ifco")}
    h, c, outputs = np.zeros(hidden), np.zeros(hidden), []
    for x_t in x:
        pre = {gate: W @ x_t + U @ h + b for gate, (W, U, b) in w.items()}
        f_t, i_t, o_t = sigmoid(pre["f"]), sigmoid(pre["i"]), sigmoid(pre["o"])
        c_tilde = np.tanh(pre["c"])
        c = f_t * c + i_t * c_tilde
        h = o_t * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs), h, c


@pytest.mark.parametrize("path", ["explicit", "fused"])
def test_equal_to_numpy_equations(path):
    torch.manual_seed(2)
    ours = LSTM(4, 6, path=path).double()
    with torch.no_grad():
        for p in ours.parameters():
            p.normal_(0, 0.5)
    x = torch.randn(1, 7, 4, dtype=torch.float64)
    out, (h, c) = ours(x)
    weights = [getattr(ours, n).detach().numpy() for n in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    np_out, np_h, np_c = numpy_lstm(x[0].numpy(), *weights)
    np.testing.assert_allclose(out[0].detach().numpy(), np_out, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(h[0, 0].detach().numpy(), np_h, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(c[0, 0].detach().numpy(), np_c, rtol=1e-12, atol=1e-13)


def test_cell_matches_one_layer_step():
    torch.manual_seed(3)
    cell = LSTMCell(4, 5).double()
    layer = LSTM(4, 5).double()
    layer.load_state_dict({f"{k}_l0": v for k, v in cell.state_dict().items()})
    x = torch.randn(2, 1, 4, dtype=torch.float64)
    h, c = cell(x[:, 0])
    _out, (h_n, c_n) = layer(x)
    torch.testing.assert_close(h, h_n[0], **TOL)
    torch.testing.assert_close(c, c_n[0], **TOL)


def test_gates_are_returned_and_consistent():
    torch.manual_seed(4)
    ours = LSTM(3, 4, bidirectional=True).double().eval()
    x = torch.randn(2, 6, 3, dtype=torch.float64)
    lengths = torch.tensor([6, 4])
    out, (_h, _c), gates = ours(x, lengths, padding_side="right", return_gates=True)
    assert len(gates) == 2
    forward_gates = gates[0]
    for tensor in forward_gates[:4]:
        assert tensor.shape == (2, 6, 4)
    for tensor in (forward_gates.input, forward_gates.forget, forward_gates.output):
        assert torch.all((tensor[0] >= 0) & (tensor[0] <= 1))
    # h_t = o_t * tanh(C_t) at every valid step, and the gates do not change the outputs
    torch.testing.assert_close(out[..., :4], forward_gates.output * torch.tanh(forward_gates.cell), **TOL)
    out_plain, _ = ours(x, lengths, padding_side="right")
    torch.testing.assert_close(out, out_plain, **TOL)
    assert torch.all(forward_gates.forget[1, 4:] == 0)  # padding steps are zero


def test_recurrent_dropout_mask_is_fixed_across_time():
    """With W_ih = 0 and b = 0 only h_{t-1} feeds the gates; a fixed mask zeroes the same units every step."""
    torch.manual_seed(5)
    ours = LSTM(2, 8, recurrent_dropout=0.5).train()
    masks = []
    original = ours._mask

    def spy(*args, **kwargs):
        masks.append(original(*args, **kwargs))
        return masks[-1]

    ours._mask = spy
    _out, _ = ours(torch.randn(3, 10, 2))
    assert len(masks) == 1 and masks[0].shape == (3, 8)  # one mask per sequence for the whole sequence
    assert set(masks[0].unique().tolist()) <= {0.0, 2.0}
    ours.eval()
    masks.clear()
    ours(torch.randn(3, 10, 2))
    assert not masks  # no dropout at evaluation


def test_auto_path_choice():
    ours = LSTM(2, 3, recurrent_dropout=0.2)
    assert ours.train().uses_explicit_path()
    assert not ours.eval().uses_explicit_path()
    assert ours.eval().uses_explicit_path(return_gates=True)
    assert not LSTM(2, 3).train().uses_explicit_path()


def test_initialisation_forget_bias_and_orthogonal_recurrent_blocks():
    ours = LSTM(3, 6)
    hidden = 6
    total_bias = ours.bias_ih_l0 + ours.bias_hh_l0
    assert torch.all(total_bias[hidden:2 * hidden] == 1) and torch.all(total_bias[:hidden] == 0)
    for block in ours.weight_hh_l0.detach().chunk(4):
        torch.testing.assert_close(block @ block.T, torch.eye(hidden), atol=1e-5, rtol=0)


def test_batch_first_false_and_initial_state():
    reference, ours = make_pair(layers=1)
    ours.batch_first = False
    reference.batch_first = False
    x = torch.randn(6, 2, 5, dtype=torch.float64)
    state = (torch.randn(1, 2, 7, dtype=torch.float64), torch.randn(1, 2, 7, dtype=torch.float64))
    for path in ("explicit", "fused"):
        ours.path = path
        out, (_h, c) = ours(x, state=state)
        ref_out, (_ref_h, ref_c) = reference(x, state)
        torch.testing.assert_close(out, ref_out, **TOL)
        torch.testing.assert_close(c, ref_c, **TOL)


@pytest.mark.parametrize("path", ["explicit", "fused"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_full_length_rows_take_the_one_call_route_and_match_torch(path, side, monkeypatch):
    """Lengths that all equal the number of steps: the fused path runs both directions of a layer in one kernel
    call (no reordering of time); outputs, states and gradients stay nn.LSTM's."""
    reference = torch.nn.LSTM(5, 4, num_layers=2, bidirectional=True, batch_first=True).double()
    ours = LSTM(5, 4, num_layers=2, bidirectional=True, path=path).double()
    ours.load_state_dict(reference.state_dict())
    calls = []
    real_lstm = torch.lstm
    monkeypatch.setattr(torch, "lstm", lambda *args: calls.append(args[-2]) or real_lstm(*args))
    x = torch.randn(3, 6, 5, dtype=torch.float64, requires_grad=True)
    out, (h, c) = ours(x, torch.tensor([6, 6, 6]), padding_side=side)
    ref_out, (ref_h, ref_c) = reference(x)
    for got, want in ((out, ref_out), (h, ref_h), (c, ref_c)):
        torch.testing.assert_close(got, want, **TOL)
    assert calls == ([] if path == "explicit" else [True, True])  # bidirectional=True, once per layer
    grads = torch.autograd.grad((out ** 2).sum() + h.sum(), [x, *ours.parameters()])
    ref_grads = torch.autograd.grad((ref_out ** 2).sum() + ref_h.sum(), [x, *reference.parameters()])
    for ours_grad, ref_grad in zip(grads, ref_grads):
        torch.testing.assert_close(ours_grad, ref_grad, **TOL)


def test_weight_dropout_drops_recurrent_connections_in_training_only(monkeypatch):
    torch.manual_seed(0)
    lstm = LSTM(3, 4, bidirectional=True, weight_dropout=0.5)
    x, lengths = torch.randn(2, 5, 3), torch.tensor([5, 3])
    seen = []
    original = torch.lstm
    monkeypatch.setattr(torch, "lstm", lambda *args: seen.append(args) or original(*args))
    lstm.train()
    first, second = lstm(x, lengths)[0], lstm(x, lengths)[0]
    assert seen, "weight dropout keeps the fused kernel"
    assert not torch.allclose(first, second)  # a new mask per forward pass
    used = [args[2][1] for args in seen if len(args) > 3 and isinstance(args[2], list)]  # weight_hh per call
    dropped = used[0] == 0
    assert 0.3 < dropped.float().mean() < 0.7
    assert torch.allclose(used[0][~dropped], 2 * lstm.weight_hh_l0[~dropped])  # survivors rescaled by 1/(1-p)
    first.sum().backward()
    assert lstm.weight_hh_l0.grad is not None and lstm.weight_hh_l0.grad.abs().sum() > 0
    lstm.eval()
    plain = LSTM(3, 4, bidirectional=True)
    plain.load_state_dict(lstm.state_dict())
    with torch.no_grad():
        assert torch.equal(lstm(x, lengths)[0], plain.eval()(x, lengths)[0])
