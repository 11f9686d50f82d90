"""The LSTM from its gate equations, with an explicit step-by-step path and a fused path on the same weights.

For input x_t, previous hidden state h_{t-1} and cell state C_{t-1}:
    f_t  = sigmoid(W_f x_t + U_f h_{t-1} + b_f)          forget gate
    i_t  = sigmoid(W_i x_t + U_i h_{t-1} + b_i)          input gate
    C~_t = tanh(W_c x_t + U_c h_{t-1} + b_c)             candidate
    C_t  = f_t * C_{t-1} + i_t * C~_t                    cell state (long-term memory)
    o_t  = sigmoid(W_o x_t + U_o h_{t-1} + b_o)          output gate
    h_t  = o_t * tanh(C_t)                               hidden state (short-term memory)

Parameters are named, shaped and ordered like torch.nn.LSTM's (rows: input, forget, candidate, output; the bias
b is split into bias_ih + bias_hh), so state dicts move freely between the two.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .lstm_cell import Gates, LSTMCell, cell_update, init_lstm_weights
from .recurrence import gate_permutation, run_recurrence

__all__ = ["LSTM", "Gates", "LSTMCell", "cell_update", "init_lstm_weights"]


def _gather_time(x: Tensor, index: Tensor) -> Tensor:
    """x[b, index[b, t]] for x = [batch, time, features], index = [batch, time].

    As whole rows of the flattened [batch * time, features] tensor: index_select copies each row in one piece,
    where gather along time with an expanded index visits every element (6x slower; with it, reordering time
    took a sixth of a bidirectional model's inference time on CPU)."""
    batch, steps = index.shape
    rows = (index + torch.arange(batch, device=index.device).unsqueeze(1) * steps).reshape(-1)
    return x.reshape(batch * steps, x.shape[-1]).index_select(0, rows).view(batch, steps, x.shape[-1])


def _time_index(lengths: Tensor, steps: int, reverse: bool) -> Tensor:
    """Permutations of the time axis that map padding to padding.

    reverse=False: left-padded -> right-padded (rotate each row by its padding);
    reverse=True: reverse the first `length` steps of each right-padded row (an involution).
    """
    t = torch.arange(steps, device=lengths.device).unsqueeze(0)
    if reverse:
        return torch.remainder(lengths.unsqueeze(1) - 1 - t, steps)
    return torch.remainder(t + (steps - lengths).unsqueeze(1), steps)


class LSTM(nn.Module):
    """Multi-layer, optionally bidirectional LSTM with exact `lengths` handling and variational dropout."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bidirectional: bool = False,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, batch_first: bool = True,
                 path: str = "auto", weight_dropout: float = 0.0):
        super().__init__()
        if path not in ("auto", "explicit", "fused"):
            raise ValueError(f"path must be auto, explicit or fused, not {path!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bidirectional, self.batch_first, self.path = bidirectional, batch_first, path
        self.dropout, self.recurrent_dropout, self.weight_dropout = dropout, recurrent_dropout, weight_dropout
        self.num_directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for suffix in self._suffixes():
                weights = {
                    f"weight_ih_l{layer}{suffix}": torch.empty(4 * hidden_size, layer_input),
                    f"weight_hh_l{layer}{suffix}": torch.empty(4 * hidden_size, hidden_size),
                    f"bias_ih_l{layer}{suffix}": torch.empty(4 * hidden_size),
                    f"bias_hh_l{layer}{suffix}": torch.empty(4 * hidden_size),
                }
                for name, tensor in weights.items():
                    self.register_parameter(name, nn.Parameter(tensor))
                init_lstm_weights(*self._weights(layer, suffix))

    def _suffixes(self) -> tuple[str, ...]:
        return ("", "_reverse")[: self.num_directions]

    def _weights(self, layer: int, suffix: str) -> list[Tensor]:
        return [getattr(self, f"{kind}_l{layer}{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def _step_weights(self, layer: int, suffix: str) -> list[Tensor]:
        """A forward pass's weights: in training, weight drop cuts connections of U (one mask per batch)."""
        weights = self._weights(layer, suffix)  # a new list: [W, U, b_ih, b_hh]
        if self.training and self.weight_dropout > 0:
            weights[1] = nn.functional.dropout(weights[1], self.weight_dropout)
        return weights

    def uses_explicit_path(self, return_gates: bool = False) -> bool:
        """The fused kernel cannot drop h_{t-1} per sequence nor expose gates; everything else goes fused."""
        if self.path != "auto":
            return self.path == "explicit"
        return return_gates or (self.training and self.recurrent_dropout > 0)

    def forward(self, x: Tensor, lengths: Tensor | None = None, state: tuple[Tensor, Tensor] | None = None,
                padding_side: str = "right", return_gates: bool = False, need_cell_state: bool = True):
        """x = [batch, time, input] (batch_first); lengths = [batch] valid steps per sequence.

        need_cell_state=False lets the CPU fused path run one padded kernel call per direction and return c_n as
        None; outputs and h_n stay exact (oneDNN builds a kernel per input shape, so fewer shapes are faster).
        """
        if padding_side not in ("left", "right"):
            raise ValueError("padding_side must be 'left' or 'right'")
        if not self.batch_first:
            x = x.transpose(0, 1)
        batch, steps, _ = x.shape  # x = [batch, time, input]
        uniform = lengths is None
        lengths = (torch.full((batch,), steps, dtype=torch.long, device=x.device) if lengths is None
                   else lengths.to(device=x.device, dtype=torch.long))
        # every row full length (common once reviews are cut to maxlen): padding and its masks play no part
        full = uniform or (not torch.jit.is_tracing() and bool((lengths == steps).all()))
        rotate = padding_side == "left" and not full
        if rotate:  # work on right-padded sequences: padding after the data never touches the valid steps
            x = _gather_time(x, _time_index(lengths, steps, reverse=False))
        if state is None:
            zeros = x.new_zeros(self.num_layers * self.num_directions, batch, self.hidden_size)
            state = (zeros, zeros)
        explicit = self.uses_explicit_path(return_gates)
        reverse_time = None
        if self.bidirectional:  # each row's valid steps back to front (an involution: it also undoes itself)
            reverse_index = None if full else _time_index(lengths, steps, reverse=True)
            reverse_time = (lambda t: t.flip(1)) if full else (lambda t: _gather_time(t, reverse_index))
        layer_input, h_n, c_n, all_gates = x, [], [], []
        for layer in range(self.num_layers):
            if self.training and self.dropout > 0:  # one mask per sequence, like Keras's `dropout`
                layer_input = layer_input * self._mask(layer_input.shape[0], layer_input.shape[-1], x)[:, None]
            if full and self.bidirectional and not explicit:  # no reversing of time, no concatenation
                layer_input, h, c = self._fused_both_directions(layer_input, layer, state)
                gates = (None, None)
            else:
                layer_input, h, c, gates = self._layer(layer_input, layer, lengths, state, reverse_time, explicit,
                                                       uniform, return_gates, need_cell_state)
            h_n.extend(h)
            c_n.extend(c)
            all_gates.extend(gates)
        output = layer_input
        if not full:
            output, restored = self._restore_padding(output, all_gates if return_gates else None, lengths, rotate)
            all_gates = restored if return_gates else all_gates
        if not self.batch_first:
            output = output.transpose(0, 1)
        c_n = torch.stack(c_n) if all(c is not None for c in c_n) else None
        result = (output, (torch.stack(h_n), c_n))
        return (*result, all_gates) if return_gates else result

    def _fused_both_directions(self, layer_input: Tensor, layer: int, state: tuple[Tensor, Tensor]):
        """Both directions of a layer of full-length rows in one kernel call."""
        k = 2 * layer
        weights = self._step_weights(layer, "") + self._step_weights(layer, "_reverse")
        output, h, c = torch.lstm(layer_input, (state[0][k: k + 2], state[1][k: k + 2]), weights, True,
                                  1, 0.0, self.training, True, True)
        return output, h.unbind(0), c.unbind(0)

    def _layer(self, layer_input: Tensor, layer: int, lengths: Tensor, state: tuple[Tensor, Tensor],
               reverse_time, explicit: bool, uniform: bool, return_gates: bool, need_cell_state: bool):
        """One layer, direction by direction; the backward direction reads each row's valid steps reversed."""
        outputs, h_n, c_n, all_gates = [], [], [], []
        for direction, suffix in enumerate(self._suffixes()):
            k = layer * self.num_directions + direction
            seq = layer_input if direction == 0 else reverse_time(layer_input)
            run = self._explicit_direction if explicit else self._fused_direction
            out, h, c, gates = run(seq, lengths, state[0][k], state[1][k], self._step_weights(layer, suffix),
                                   uniform, return_gates, need_cell_state)
            if direction == 1:
                out = reverse_time(out)
                gates = Gates(*(reverse_time(g) for g in gates)) if gates else None
            outputs.append(out)
            h_n.append(h)
            c_n.append(c)
            all_gates.append(gates)
        output = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
        return output, h_n, c_n, all_gates

    @staticmethod
    def _restore_padding(output: Tensor, all_gates: list | None, lengths: Tensor, rotate: bool):
        """Zero the padded positions (of the output and any gates) and, for left padding, rotate them back."""
        steps = output.shape[1]
        valid = (torch.arange(steps, device=output.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        output = output * valid  # padded positions are exactly zero
        if all_gates is not None:
            all_gates = [Gates(*(g * valid for g in gates)) for gates in all_gates]
        if rotate:  # back to left padding
            back = _time_index(steps - lengths, steps, reverse=False)
            output = _gather_time(output, back)
            if all_gates is not None:
                all_gates = [Gates(*(_gather_time(g, back) for g in gates)) for gates in all_gates]
        return output, all_gates

    def _mask(self, batch: int, size: int, like: Tensor, p: float | None = None) -> Tensor:
        p = self.dropout if p is None else p
        return like.new_empty(batch, size).bernoulli_(1 - p) / (1 - p)

    def _explicit_direction(self, x: Tensor, lengths: Tensor, h: Tensor, c: Tensor, weights: list[Tensor],
                            uniform: bool, return_gates: bool, need_cell_state: bool = True):
        """The equations step by step on a right-padded batch; final states gathered at each last valid step."""
        w_ih, w_hh, b_ih, b_hh = weights
        batch = x.shape[0]
        h0, c0 = h, c
        order = gate_permutation(self.hidden_size, x.device)  # (i, f, o, C~): one sigmoid over three gates
        drop = self.training and self.recurrent_dropout > 0
        mask = self._mask(batch, self.hidden_size, x, self.recurrent_dropout) if drop else None
        # output, cells = [batch, time, hidden]; acts = [batch, time, 4 * hidden] (i, f, o, C~)
        output, cells, acts = run_recurrence(x, w_ih[order], (b_ih + b_hh)[order], w_hh[order], h, c, mask)
        gates = None
        if return_gates:
            i, f, o, c_tilde = acts.chunk(4, dim=-1)
            gates = Gates(i, f, c_tilde, o, cells)
        if uniform:
            return output, output[:, -1], cells[:, -1], gates
        last = (lengths - 1).clamp(min=0)
        rows = torch.arange(batch, device=x.device)
        empty = (lengths == 0).unsqueeze(1)
        h_n = torch.where(empty, h0, output[rows, last])
        c_n = torch.where(empty, c0, cells[rows, last])
        return output, h_n, c_n, gates

    def _fused_direction(self, x: Tensor, lengths: Tensor, h: Tensor, c: Tensor, weights: list[Tensor],
                         uniform: bool, return_gates: bool, need_cell_state: bool = True):
        """PyTorch's LSTM kernel (cuDNN on GPU) on our weights; exact for any lengths."""
        if uniform or bool((lengths == x.shape[1]).all()):
            output, h_n, c_n = torch.lstm(x, (h[None], c[None]), weights, True, 1, 0.0, self.training, False, True)
            return output, h_n[0], c_n[0], None
        if x.is_cuda:
            return (*self._fused_packed(x, lengths, h, c, weights), None)
        if not need_cell_state:  # right padding never reaches valid steps: gather h at each last valid step
            output, _, _ = torch.lstm(x, (h[None], c[None]), weights, True, 1, 0.0, self.training, False, True)
            last = (lengths - 1).clamp(min=0)
            h_n = torch.where((lengths == 0).unsqueeze(1), h, output[torch.arange(x.shape[0], device=x.device), last])
            return output, h_n, None, None
        return (*self._fused_segments(x, lengths, h, c, weights), None)

    def _fused_packed(self, x: Tensor, lengths: Tensor, h: Tensor, c: Tensor, weights: list[Tensor]):
        """Packed sequences: fastest with cuDNN, but about 30x slower than padded on CPU."""
        steps = x.shape[1]
        packed = pack_padded_sequence(x, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        order = packed.sorted_indices
        data, h_n, c_n = torch.lstm(packed.data, packed.batch_sizes, (h[order][None], c[order][None]), weights,
                                    True, 1, 0.0, self.training, False)
        output, _ = pad_packed_sequence(packed._replace(data=data), batch_first=True, total_length=steps)
        unorder = packed.unsorted_indices
        empty = (lengths == 0).unsqueeze(1)
        return output, torch.where(empty, h, h_n[0][unorder]), torch.where(empty, c, c_n[0][unorder])

    def _fused_segments(self, x: Tensor, lengths: Tensor, h: Tensor, c: Tensor, weights: list[Tensor]):
        """Padded kernel calls between consecutive distinct lengths: sequences sorted longest first stay a
        prefix of the batch, so each call runs only the rows still active and final states are exact."""
        batch, steps, _ = x.shape
        sorted_lengths, order = lengths.sort(descending=True)
        x, h, c = x[order], h[order], c[order]
        pieces, start = [], 0
        for end in sorted(set(sorted_lengths.tolist())):
            if end == 0:
                continue
            active = int((sorted_lengths >= end).sum())
            out, h_a, c_a = torch.lstm(x[:active, start:end], (h[:active][None], c[:active][None]), weights, True,
                                       1, 0.0, self.training, False, True)
            pieces.append(nn.functional.pad(out, (0, 0, 0, 0, 0, batch - active)))
            h = torch.cat([h_a[0], h[active:]])
            c = torch.cat([c_a[0], c[active:]])
            start = end
        output = torch.cat(pieces, dim=1) if pieces else x.new_zeros(batch, 0, self.hidden_size)
        output = nn.functional.pad(output, (0, 0, 0, steps - output.shape[1]))
        unorder = order.argsort()
        return output[unorder], h[unorder], c[unorder]
