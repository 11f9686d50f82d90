"""`export`: the classifier as an ONNX graph (ids and lengths in, P(positive) out) for onnxruntime.

The graph is traced with PyTorch's TorchScript-based ONNX exporter, which turns our fused LSTM path into ONNX's
LSTM operator. The example batch has rows of different lengths, so the trace records the general path (one
padded LSTM call per direction, outputs gathered at each row's own last step), which is exact for any batch.
Batch size and sequence length stay dynamic. The weights' hash goes into the file, so a stale export is
refused rather than silently used.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from .errors import UserError
from .files import atomic_write
from .model_dir import load_model_files, weights_version

ONNX_FILE = "model.onnx"
WEIGHTS_KEY = "lstm_sentiment.weights_sha256"


class ProbabilityModel(nn.Module):
    """ids [batch, time] (int64, padded on the right with 0) and lengths [batch] -> P(positive) [batch]."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.classifier(ids, lengths, "right").float())


def export_onnx(model_dir: Path, out: Path | None = None) -> Path:
    try:
        import onnx
    except ImportError:
        raise UserError("export needs the [onnx] extra: pip install 'lstm-sentiment[onnx]'") from None
    out = out or model_dir / ONNX_FILE
    classifier, _, _ = load_model_files(model_dir, "cpu")
    model = ProbabilityModel(classifier.eval()).eval()
    ids = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 11, 0, 0]])
    lengths = torch.tensor([5, 3])  # unequal on purpose: see the module docstring
    if out.is_dir():
        raise UserError(f"{out}: is a directory; name the .onnx file to write")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror}") from None

    def write(temporary: Path) -> None:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer notes about the data-dependent branch the docstring explains
            torch.onnx.export(model, (ids, lengths), str(temporary), dynamo=False, opset_version=17,
                              input_names=["ids", "lengths"], output_names=["probability"],
                              dynamic_axes={"ids": {0: "batch", 1: "time"}, "lengths": {0: "batch"},
                                            "probability": {0: "batch"}})
        graph = onnx.load(str(temporary))
        entry = graph.metadata_props.add()
        entry.key, entry.value = WEIGHTS_KEY, weights_version(model_dir)
        onnx.save(graph, str(temporary))

    atomic_write(out, write)  # an interrupted export leaves the previous file, never half a graph
    return out


class OnnxScorer:
    """An onnxruntime session over an exported model, checked against the weights it must come from."""

    def __init__(self, path: Path, expected_version: str, threads: int):
        try:
            import onnxruntime
        except ImportError:
            raise UserError("--backend onnx needs the [onnx] extra: pip install 'lstm-sentiment[onnx]'") from None
        if not path.exists():
            raise UserError(f"{path}: missing; create it with `lstm-sentiment export --model {path.parent}`")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        # no busy-waiting between calls: idle spinning threads would slow whatever else runs (PyTorch, a server)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for unreadable files
            raise UserError(f"{path}: not a loadable ONNX model ({exc})") from None
        exported_from = self.session.get_modelmeta().custom_metadata_map.get(WEIGHTS_KEY)
        if exported_from != expected_version:
            raise UserError(f"{path} was exported from other weights ({exported_from} here, {expected_version} in "
                            f"the model directory); export again with `lstm-sentiment export --model {path.parent}`")

    def __call__(self, ids: torch.Tensor, lengths: torch.Tensor):
        return self.session.run(None, {"ids": ids.numpy(), "lengths": lengths.numpy()})[0]
