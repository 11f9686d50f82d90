"""The LSTM recurrence with a hand-written backward pass (backpropagation through time).

Autograd records ~10 nodes per time step; at the sizes of sentiment models that bookkeeping, not arithmetic,
dominates. Here the forward loop runs without recording and saves the activations, and the backward loop applies
the derivatives of the gate equations directly, so each step costs a handful of fused tensor operations.
Everything is time-major inside ([time, batch, ...]) so each step touches contiguous memory.
"""

from __future__ import annotations

import torch
from torch import Tensor

from .native import lstm_steps


def gate_permutation(hidden: int, device: torch.device | None = None) -> Tensor:
    """Row order (i, f, o, C~) from torch's (i, f, C~, o): the three sigmoid gates become one contiguous block."""
    rows = torch.arange(4 * hidden, device=device)
    return torch.cat([rows[: 2 * hidden], rows[3 * hidden:], rows[2 * hidden: 3 * hidden]])


def _steps(tensor: Tensor, hidden: int | None = None, gate: slice | None = None) -> tuple[Tensor, ...]:
    """Per-step views made in one call (cheaper than slicing inside the loop): tensor [T, B, n] -> T x [B, n]."""
    if gate is not None:
        tensor = tensor[..., gate.start * hidden: gate.stop * hidden]
    return tensor.unbind(0)


def _forward_loop(acts: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None):
    # acts = [time, batch, 4H] holds W x_t + b (gate rows (i, f, o, C~)) and is turned in place into
    # sigmoid(i), sigmoid(f), sigmoid(o), tanh(C~): no per-step copy of the projection
    steps, batch, four_hidden = acts.shape
    hidden = four_hidden // 4
    cells = acts.new_empty(steps, batch, hidden)
    tanh_cells = acts.new_empty(steps, batch, hidden)
    outputs = acts.new_empty(steps, batch, hidden)
    act = _steps(acts)
    sigmoid_gates, candidate = _steps(acts, hidden, slice(0, 3)), _steps(acts, hidden, slice(3, 4))
    i, f, o = (_steps(acts, hidden, slice(k, k + 1)) for k in range(3))
    c_t, tanh_c, h_t = _steps(cells), _steps(tanh_cells), _steps(outputs)
    w_hh_t = w_hh.t()
    h_in = h0 * mask if mask is not None else h0
    c = c0
    for t in range(steps):
        act[t].addmm_(h_in, w_hh_t)  # W x_t + b + U h_{t-1}
        sigmoid_gates[t].sigmoid_()
        candidate[t].tanh_()
        # C_t = f_t * C_{t-1} + i_t * C~_t ;  h_t = o_t * tanh(C_t)
        c = torch.mul(f[t], c, out=c_t[t]).addcmul_(i[t], candidate[t])
        h = torch.mul(o[t], torch.tanh(c, out=tanh_c[t]), out=h_t[t])
        h_in = h * mask if mask is not None else h
    return outputs, cells, tanh_cells


def _backward_loop(grad_outputs: Tensor | None, grad_cells: Tensor | None, acts: Tensor, cells: Tensor,
                   tanh_cells: Tensor, c0: Tensor, w_hh: Tensor, mask: Tensor | None):
    steps, batch, hidden = cells.shape
    i, f, o, g = acts.chunk(4, dim=-1)
    # Everything that does not depend on the incoming gradient is computed for all steps at once:
    #   d pre_i = dC g i(1-i),  d pre_f = dC C_{t-1} f(1-f),  d pre_o = dh tanh(C) o(1-o),  d pre_C~ = dC i (1-C~^2)
    sig = acts[..., : 3 * hidden]
    dsig = sig * (1 - sig)
    c_prev = torch.cat([c0.unsqueeze(0), cells[:-1]])
    coef_if = torch.cat([g * dsig[..., :hidden], c_prev * dsig[..., hidden: 2 * hidden]], dim=-1)
    coef_if = _steps(coef_if.view(steps, batch, 2, hidden))  # dC -> i, f
    coef_g = _steps(i * (1 - g * g))  # dC -> C~
    coef_o = _steps(tanh_cells * dsig[..., 2 * hidden:])  # dh -> o
    through_tanh = _steps(o * (1 - tanh_cells * tanh_cells))  # dh -> dC
    forget = _steps(f)
    grad_pre = torch.empty_like(acts)  # d loss / d (W x_t + U h_{t-1} + b), rows (i, f, o, C~)
    gp = _steps(grad_pre)
    gp_if = _steps(grad_pre.view(steps, batch, 4, hidden)[:, :, :2])
    gp_o, gp_g = _steps(grad_pre, hidden, slice(2, 3)), _steps(grad_pre, hidden, slice(3, 4))
    grad_h = _steps(grad_outputs) if grad_outputs is not None else None
    grad_c = _steps(grad_cells) if grad_cells is not None else None
    dh_next = acts.new_zeros(batch, hidden)
    dc_next = acts.new_zeros(batch, hidden)
    for t in range(steps - 1, -1, -1):
        dh = grad_h[t] + dh_next if grad_h is not None else dh_next
        dc = torch.addcmul(dc_next if grad_c is None else grad_c[t] + dc_next, dh, through_tanh[t])
        torch.mul(coef_if[t], dc.unsqueeze(1), out=gp_if[t])
        torch.mul(coef_o[t], dh, out=gp_o[t])
        torch.mul(coef_g[t], dc, out=gp_g[t])
        dc_next = dc * forget[t]
        dh_next = gp[t] @ w_hh  # dh_{t-1} through U (and the dropout mask on h_{t-1})
        if mask is not None:
            dh_next.mul_(mask)
    return grad_pre, dh_next, dc_next


def _kernels_for(acts: Tensor):
    """The compiled step loops for CPU tensors when they build; the Python loops otherwise (and on CUDA, where
    the fused path serves training and this path only gate capture and recurrent dropout)."""
    return lstm_steps() if acts.device.type == "cpu" else None


class Recurrence(torch.autograd.Function):
    """One layer and direction: (x [T,B,I], w_ih [4H,I], bias [4H], w_hh [4H,H], h0, c0 [B,H], mask [B,H] | None)
    -> (h_t, C_t [T,B,H], gate activations [T,B,4H]).

    Gate rows of the weights (and of the returned activations) are in (i, f, o, C~) order. The input projection
    for all steps is one matrix product, and its gradients are three more, all outside the time loop.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    @torch.amp.custom_fwd(device_type="cpu", cast_inputs=torch.float32)
    def forward(ctx, x, w_ih, bias, w_hh, h0, c0, mask):
        ctx.set_materialize_grads(False)  # unused outputs send None, and their arithmetic is skipped
        steps, batch, _ = x.shape
        x = x.contiguous()
        acts = torch.addmm(bias, x.view(steps * batch, -1), w_ih.t()).view(steps, batch, -1)
        kernels = _kernels_for(acts)
        ctx.kernels = kernels
        loop = kernels.forward_loop if kernels else _forward_loop
        outputs, cells, tanh_cells = loop(acts, w_hh, h0, c0, mask)
        ctx.save_for_backward(x, w_ih, outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask)
        ctx.mark_non_differentiable(acts)
        return outputs, cells, acts

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    @torch.amp.custom_bwd(device_type="cpu")
    def backward(ctx, grad_outputs, grad_cells, _grad_acts):
        x, w_ih, outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask = ctx.saved_tensors
        loop = ctx.kernels.backward_loop if ctx.kernels else _backward_loop
        grad_pre, grad_h0, grad_c0 = loop(grad_outputs, grad_cells, acts, cells, tanh_cells, c0, w_hh, mask)
        flat_grad = grad_pre.view(-1, grad_pre.shape[-1])  # [T*B, 4H]
        # U's gradient in one matrix product over all steps: sum_t dpre_t^T (h_{t-1} * mask)
        h_prev = torch.cat([h0.unsqueeze(0), outputs[:-1]])
        if mask is not None:
            h_prev = h_prev * mask
        grad_w_hh = flat_grad.t() @ h_prev.view(-1, h_prev.shape[-1])
        grad_x = (flat_grad @ w_ih).view(x.shape) if ctx.needs_input_grad[0] else None
        grad_w_ih = flat_grad.t() @ x.view(-1, x.shape[-1])
        return grad_x, grad_w_ih, flat_grad.sum(0), grad_w_hh, grad_h0, grad_c0, None


def run_recurrence(x: Tensor, w_ih: Tensor, bias: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor,
                   mask: Tensor | None = None):
    """Batch-first wrapper: x [B,T,I] -> outputs, cells [B,T,H] and activations [B,T,4H] (views of time-major
    tensors)."""
    outputs, cells, acts = Recurrence.apply(x.transpose(0, 1), w_ih, bias, w_hh, h0, c0, mask)
    return outputs.transpose(0, 1), cells.transpose(0, 1), acts.transpose(0, 1)
