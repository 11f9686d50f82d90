"""The LSTM cell: the gate equations for one time step, their initialisation, and the per-step activations
(Gates) that the layer in lstm.py returns for explanations. The equations are in lstm.py's docstring."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor, nn


class Gates(NamedTuple):
    """Per-step activations of one layer and direction, each [batch, time, hidden]."""

    input: Tensor  # i_t
    forget: Tensor  # f_t
    candidate: Tensor  # C~_t
    output: Tensor  # o_t
    cell: Tensor  # C_t


def cell_update(gate_inputs: Tensor, c_prev: Tensor) -> tuple[Tensor, Tensor, tuple[Tensor, ...]]:
    """One step of the equations given W x_t + U h_{t-1} + b for all four gates ([batch, 4 * hidden])."""
    i_pre, f_pre, c_pre, o_pre = gate_inputs.chunk(4, dim=-1)
    i = torch.sigmoid(i_pre)
    f = torch.sigmoid(f_pre)
    c_tilde = torch.tanh(c_pre)
    o = torch.sigmoid(o_pre)
    c = f * c_prev + i * c_tilde
    h = o * torch.tanh(c)
    return h, c, (i, f, c_tilde, o)


def init_lstm_weights(weight_ih: Tensor, weight_hh: Tensor, bias_ih: Tensor, bias_hh: Tensor) -> None:
    """Uniform input weights, orthogonal recurrent blocks (gradients neither explode nor vanish through U at
    the start), forget-gate bias 1 (the cell remembers by default; Jozefowicz et al. 2015, Keras's default)."""
    hidden = weight_hh.shape[1]
    bound = 1.0 / math.sqrt(hidden)
    with torch.no_grad():
        nn.init.uniform_(weight_ih, -bound, bound)
        for block in weight_hh.chunk(4, dim=0):
            nn.init.orthogonal_(block)
        bias_ih.zero_()
        bias_hh.zero_()
        bias_ih[hidden: 2 * hidden] = 1.0


class LSTMCell(nn.Module):
    """One time step; the reference for teaching and for the per-step baseline."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(4 * hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(4 * hidden_size))
        init_lstm_weights(self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None,
                return_gates: bool = False):
        # x = [batch, input]; h, c = [batch, hidden]
        if state is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            state = (zeros, zeros)
        h_prev, c_prev = state
        gate_inputs = x @ self.weight_ih.t() + self.bias_ih + h_prev @ self.weight_hh.t() + self.bias_hh
        h, c, gates = cell_update(gate_inputs, c_prev)
        return ((h, c), gates) if return_gates else (h, c)
