"""The LSTM recurrence with a hand-written backward pass (backpropagation through time).

Autograd records ~10 nodes per time step; at the sizes of sentiment models that bookkeeping, not arithmetic,
dominates. Here the forward loop runs without recording and saves the activations, and the backward loop applies
the derivatives of the gate equations directly, so each step costs a handful of fused tensor operations.
Everything is time-major inside ([time, batch, ...]) so each step touches contiguous memory.
"""

from __future__ import annotations

import torch
from torch import Tensor


def _forward_loop(projected: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None):
    # projected = [time, batch, 4H] = W x_t + b; activations saved for the backward pass
    steps, batch, four_hidden = projected.shape
    hidden = four_hidden // 4
    acts = torch.empty_like(projected)  # sigmoid(i), sigmoid(f), tanh(C~), sigmoid(o)
    cells = projected.new_empty(steps, batch, hidden)
    tanh_cells = projected.new_empty(steps, batch, hidden)
    outputs = projected.new_empty(steps, batch, hidden)
    w_hh_t = w_hh.t()
    h, c = h0, c0
    for t in range(steps):
        h_in = h * mask if mask is not None else h
        pre = torch.addmm(projected[t], h_in, w_hh_t)
        act = acts[t]
        torch.sigmoid(pre, out=act)
        act[:, 2 * hidden: 3 * hidden] = torch.tanh(pre[:, 2 * hidden: 3 * hidden])
        i, f, g, o = act.chunk(4, dim=1)
        c = torch.addcmul(f * c, i, g)
        cells[t] = c
        torch.tanh(c, out=tanh_cells[t])
        h = torch.mul(o, tanh_cells[t], out=outputs[t])
    return outputs, cells, acts, tanh_cells


def _backward_loop(grad_outputs: Tensor, grad_cells: Tensor, acts: Tensor, cells: Tensor, tanh_cells: Tensor,
                   c0: Tensor, w_hh: Tensor, mask: Tensor | None):
    steps, batch, hidden = cells.shape
    grad_pre = torch.empty_like(acts)  # d loss / d (W x_t + U h_{t-1} + b), all gates
    dh_next = grad_outputs.new_zeros(batch, hidden)
    dc_next = grad_outputs.new_zeros(batch, hidden)
    for t in range(steps - 1, -1, -1):
        i, f, g, o = acts[t].chunk(4, dim=1)
        tanh_c = tanh_cells[t]
        c_prev = cells[t - 1] if t > 0 else c0
        dh = grad_outputs[t] + dh_next
        # dC_t = dC from later steps + dh * o * (1 - tanh^2 C_t)
        dc = grad_cells[t] + dc_next + dh * o * (1 - tanh_c * tanh_c)
        d_i, d_f, d_g, d_o = grad_pre[t].chunk(4, dim=1)
        torch.mul(dc * g, i * (1 - i), out=d_i)
        torch.mul(dc * c_prev, f * (1 - f), out=d_f)
        torch.mul(dc * i, 1 - g * g, out=d_g)
        torch.mul(dh * tanh_c, o * (1 - o), out=d_o)
        dc_next = dc * f
        dh_next = grad_pre[t] @ w_hh
        if mask is not None:
            dh_next = dh_next * mask
    return grad_pre, dh_next, dc_next


class Recurrence(torch.autograd.Function):
    """(projected [T,B,4H], w_hh [4H,H], h0, c0 [B,H], mask [B,H] | None) -> (h_t, C_t, gate activations)."""

    @staticmethod
    @torch.amp.custom_fwd(device_type="cuda", cast_inputs=torch.float32)
    def forward(ctx, projected, w_hh, h0, c0, mask):
        outputs, cells, acts, tanh_cells = _forward_loop(projected, w_hh, h0, c0, mask)
        ctx.save_for_backward(outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask)
        ctx.mark_non_differentiable(acts)
        return outputs, cells, acts

    @staticmethod
    @torch.amp.custom_bwd(device_type="cuda")
    def backward(ctx, grad_outputs, grad_cells, _grad_acts):
        outputs, cells, acts, tanh_cells, w_hh, h0, c0, mask = ctx.saved_tensors
        grad_outputs = grad_outputs if grad_outputs is not None else torch.zeros_like(outputs)
        grad_cells = grad_cells if grad_cells is not None else torch.zeros_like(cells)
        grad_pre, grad_h0, grad_c0 = _backward_loop(grad_outputs, grad_cells, acts, cells, tanh_cells, c0, w_hh, mask)
        # U's gradient in one matrix product over all steps: sum_t dpre_t^T (h_{t-1} * mask)
        h_prev = torch.cat([h0.unsqueeze(0), outputs[:-1]])
        if mask is not None:
            h_prev = h_prev * mask
        grad_w_hh = grad_pre.reshape(-1, grad_pre.shape[-1]).t() @ h_prev.reshape(-1, h_prev.shape[-1])
        return grad_pre, grad_w_hh, grad_h0, grad_c0, None


def run_recurrence(projected: Tensor, w_hh: Tensor, h0: Tensor, c0: Tensor, mask: Tensor | None = None):
    """Batch-first wrapper: projected [B,T,4H] -> outputs, cells [B,T,H] and activations [B,T,4H]."""
    outputs, cells, acts = Recurrence.apply(projected.transpose(0, 1).contiguous(), w_hh, h0, c0, mask)
    return outputs.transpose(0, 1), cells.transpose(0, 1), acts.transpose(0, 1)
