"""The LSTM recurrence with a hand-written backward pass (backpropagation through time).

Autograd records ~10 nodes per time step; at the sizes of sentiment models that bookkeeping, not arithmetic,
dominates. Here the forward loop runs without recording and saves the activations, and the backward loop applies
the derivatives of the gate equations directly, so each step costs a handful of fused tensor operations.
Everything is time-major inside ([time, batch, ...]) so each step touches contiguous memory.
"""

from __future__ import annotations

import torch
from torch import Tensor


def gate_permutation(hidden: int, device: torch.device | None = None) -> Tensor:
    """Row order (i, f, o, C~) from torch's (i, f, C~, o): the three sigmoid gates become one contiguous block."""
    rows = torch.arange(4 * hidden, device=device)
    return torch.cat([rows[: 2 * hidden], rows[3 * hidden:], rows[2 * hidden: 3 * hidden]])


def _forward_loop(projected: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None):
    # projected = [time, batch, 4H] = W x_t + b with gate rows in (i, f, o, C~) order
    steps, batch, four_hidden = projected.shape
    hidden = four_hidden // 4
    acts = torch.empty_like(projected)  # sigmoid(i), sigmoid(f), sigmoid(o), tanh(C~)
    cells = projected.new_empty(steps, batch, hidden)
    tanh_cells = projected.new_empty(steps, batch, hidden)
    outputs = projected.new_empty(steps, batch, hidden)
    w_hh_t = w_hh.t()
    h_in = h0 * mask if mask is not None else h0
    c = c0
    for t in range(steps):
        act = torch.addmm(projected[t], h_in, w_hh_t, out=acts[t])  # W x_t + U h_{t-1} + b
        act[:, : 3 * hidden].sigmoid_()
        act[:, 3 * hidden:].tanh_()
        # C_t = f_t * C_{t-1} + i_t * C~_t ;  h_t = o_t * tanh(C_t)
        c = torch.mul(act[:, hidden: 2 * hidden], c, out=cells[t]).addcmul_(act[:, :hidden], act[:, 3 * hidden:])
        h = torch.mul(act[:, 2 * hidden: 3 * hidden], torch.tanh(c, out=tanh_cells[t]), out=outputs[t])
        h_in = h * mask if mask is not None else h
    return outputs, cells, acts, tanh_cells


def _backward_loop(grad_outputs: Tensor, grad_cells: Tensor | None, acts: Tensor, cells: Tensor, tanh_cells: Tensor,
                   c0: Tensor, w_hh: Tensor, mask: Tensor | None):
    steps, batch, hidden = cells.shape
    i, f, o, g = acts.chunk(4, dim=-1)
    # Everything that does not depend on the incoming gradient is computed for all steps at once.
    sig = acts[..., : 3 * hidden]
    dsig = sig * (1 - sig)
    c_prev = torch.cat([c0.unsqueeze(0), cells[:-1]])
    coef_if = torch.cat([g * dsig[..., :hidden], c_prev * dsig[..., hidden: 2 * hidden]], dim=-1)  # dC -> i, f
    coef_g = i * (1 - g * g)  # dC -> C~
    coef_o = tanh_cells * dsig[..., 2 * hidden:]  # dh -> o
    through_tanh = o * (1 - tanh_cells * tanh_cells)  # dh -> dC
    grad_pre = torch.empty_like(acts)  # d loss / d (W x_t + U h_{t-1} + b), rows (i, f, o, C~)
    dh_next = grad_outputs.new_zeros(batch, hidden)
    dc_next = grad_outputs.new_zeros(batch, hidden)
    for t in range(steps - 1, -1, -1):
        dh = grad_outputs[t] + dh_next
        dc = torch.addcmul(dc_next if grad_cells is None else grad_cells[t] + dc_next, dh, through_tanh[t])
        gp = grad_pre[t]
        torch.mul(coef_if[t].view(batch, 2, hidden), dc.unsqueeze(1), out=gp.view(batch, 4, hidden)[:, :2])
        torch.mul(coef_o[t], dh, out=gp[:, 2 * hidden: 3 * hidden])
        torch.mul(coef_g[t], dc, out=gp[:, 3 * hidden:])
        dc_next = dc * f[t]
        dh_next = gp @ w_hh
        if mask is not None:
            dh_next.mul_(mask)
    return grad_pre, dh_next, dc_next


class Recurrence(torch.autograd.Function):
    """(projected [T,B,4H], w_hh [4H,H], h0, c0 [B,H], mask [B,H] | None) -> (h_t, C_t, gate activations).

    Gate rows of `projected` and `w_hh` (and of the returned activations) are in (i, f, o, C~) order.
    """

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, projected, w_hh, h0, c0, mask):
        ctx.set_materialize_grads(False)  # unused outputs send None, and their arithmetic is skipped
        outputs, cells, acts, tanh_cells = _forward_loop(projected, w_hh, h0, c0, mask)
        ctx.save_for_backward(outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask)
        ctx.mark_non_differentiable(acts)
        return outputs, cells, acts

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, grad_outputs, grad_cells, _grad_acts):
        outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask = ctx.saved_tensors
        grad_outputs = grad_outputs if grad_outputs is not None else torch.zeros_like(outputs)
        grad_pre, grad_h0, grad_c0 = _backward_loop(grad_outputs, grad_cells, acts, cells, tanh_cells, c0, w_hh, mask)
        # U's gradient in one matrix product over all steps: sum_t dpre_t^T (h_{t-1} * mask)
        h_prev = torch.cat([h0.unsqueeze(0), outputs[:-1]])
        if mask is not None:
            h_prev = h_prev * mask
        grad_w_hh = grad_pre.reshape(-1, grad_pre.shape[-1]).t() @ h_prev.reshape(-1, h_prev.shape[-1])
        return grad_pre, grad_w_hh, grad_h0, grad_c0, None


def run_recurrence(x: Tensor, w_ih: Tensor, bias: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor,
                   mask: Tensor | None = None):
    """x [B,T,I] -> outputs, cells [B,T,H] and activations [B,T,4H] (batch-first views of time-major tensors).

    All input projections W x_t + b come from one matrix product, computed time-major so that no [T,B,4H]
    tensor is ever copied.
    """
    projected = torch.nn.functional.linear(x.transpose(0, 1), w_ih, bias)  # [time, batch, 4H]
    outputs, cells, acts = Recurrence.apply(projected.contiguous(), w_hh, h0, c0, mask)
    return outputs.transpose(0, 1), cells.transpose(0, 1), acts.transpose(0, 1)
