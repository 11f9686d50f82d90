"""data stats --plot and report: the pictures and the page are produced, complete and self-contained."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import TINY_CONFIG, train_tiny_run
from lstm_sentiment.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, small_archive):
    return train_tiny_run(tmp_path_factory.mktemp("report"), small_archive, 3)


def test_data_stats_plot(tmp_path, small_archive, capsys):
    figure = tmp_path / "stats.png"
    assert main(["data", "stats", "--data", str(small_archive), "--plot", str(figure), "--maxlen", "20",
                 "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert figure.read_bytes()[:8] == PNG
    assert payload["plot"]["maxlen"] == 20 and 0.0 < payload["plot"]["truncated_share"] < 1.0
    assert main(["data", "stats", "--data", str(small_archive), "--plot", str(tmp_path / "x.jpg")]) == 2
    assert ".png" in capsys.readouterr().err


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.headings, self.scripts, self._in_heading = [], [], 0, False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        self.scripts += tag == "script"
        self._in_heading = tag in ("h1", "h2")

    def handle_data(self, data):
        if self._in_heading:
            self.headings.append(data)
            self._in_heading = False


def test_report_is_one_self_contained_page(run_dir, small_archive, tmp_path, capsys):
    page = tmp_path / "report.html"
    assert main(["report", str(run_dir), "--data", str(small_archive), "--out", str(page)]) == 0
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    assert len(parser.sources) == 4  # curves, confusion matrix, ROC curve, accuracy by length: all inline
    assert all(src.startswith("data:image/png;base64,") for src in parser.sources)
    assert parser.scripts == 0
    text = " ".join(parser.headings)
    for heading in ("Training curves", "first", "most confident mistakes", "Behavioural tests", "Configuration"):
        assert heading in text
    assert "Negated positive" in page.read_text(encoding="utf-8")  # the check table, with its tests


def test_report_of_a_validation_only_run_stays_off_the_test_split(tmp_path, small_archive):
    out = train_tiny_run(tmp_path, small_archive, 1, TINY_CONFIG, "--no-test")
    assert main(["report", str(out), "--data", str(small_archive)]) == 0
    assert "validation split" in (out / "report.html").read_text(encoding="utf-8")


def test_walkthrough_notebook_runs(tmp_path, small_archive, monkeypatch):
    """The learners' notebook executes top to bottom (on the small fixture archive), so it never rots."""
    import nbclient  # test extras: a missing install must fail here, not skip
    import nbformat

    notebook = nbformat.read(Path(__file__).parents[1] / "examples" / "walkthrough.ipynb", as_version=4)
    monkeypatch.setenv("LSTM_SENTIMENT_DATA", str(small_archive))
    monkeypatch.setenv("WALKTHROUGH_LIMIT", "80")
    monkeypatch.setenv("WALKTHROUGH_OUT", str(tmp_path / "runs"))
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert (tmp_path / "runs" / "model" / "model.safetensors").exists()


def test_report_and_stats_plot_work_with_the_shipped_model(tmp_path, small_archive, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--data", str(small_archive)]) == 0  # no RUN_DIR: the shipped model
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "Run report: default_model" in page and "data:image/png;base64," in page
    assert main(["data", "stats", "--data", str(small_archive), "--plot", "stats.png"]) == 0  # its maxlen
    assert (tmp_path / "stats.png").read_bytes()[:8] == PNG
