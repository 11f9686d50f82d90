"""Config layers: defaults, presets, TOML files, overrides; unknown keys and wrong types are errors."""

from __future__ import annotations

import pytest

from lstm_sentiment.config import Config
from lstm_sentiment.config_io import apply_override, config_from_dict, load_config_file, load_preset, preset_names
from lstm_sentiment.errors import UserError


def test_tutorial_presets_match_the_issue():
    seed000, seed001, seed002, seed003 = (load_preset(n) for n in ("seed000", "seed001", "seed002", "seed003"))
    assert (seed000.data.num_words, seed000.data.maxlen, seed000.model.hidden_sizes) == (10000, 200, [128])
    assert (seed000.model.dropout, seed000.model.recurrent_dropout, seed000.train.batch_size) == (0.2, 0.2, 64)
    assert (seed001.data.maxlen, seed001.model.hidden_sizes, seed001.train.batch_size) == (500, [128, 64], 32)
    assert (seed002.model.hidden_sizes, seed002.model.output_dropout, seed002.train.epochs) == ([100], 0.5, 3)
    assert seed003.data.pool and seed003.data.num_words == 5000 and seed003.data.split_seed == 42
    assert all(load_preset(n).data.validation_split == 0.2 for n in preset_names() if n.startswith("seed"))


def test_unknown_keys_sections_and_wrong_types_are_rejected():
    with pytest.raises(UserError, match="unknown key"):
        config_from_dict({"model": {"hiden_sizes": [3]}})
    with pytest.raises(UserError, match="unknown section"):
        config_from_dict({"optim": {}})
    with pytest.raises(UserError, match="expected int"):
        config_from_dict({"train": {"epochs": "five"}})
    with pytest.raises(UserError, match="must be 'pre' or 'post'"):
        config_from_dict({"data": {"padding": "middle"}})


def test_overrides_parse_toml_values():
    config = Config()
    apply_override(config, "model.hidden_sizes=[64, 32]")
    apply_override(config, "model.bidirectional=true")
    apply_override(config, "train.optimizer=adamw")
    apply_override(config, "train.learning_rate=2e-3")
    assert config.model.hidden_sizes == [64, 32] and config.model.bidirectional
    assert config.train.optimizer == "adamw" and config.train.learning_rate == 0.002
    with pytest.raises(UserError, match="section.key=value"):
        apply_override(config, "epochs=3")


def test_config_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\nepochs = 3")
    with pytest.raises(UserError, match="bad.toml: invalid TOML"):
        load_config_file(bad)
    with pytest.raises(UserError, match="cannot read config file"):
        load_config_file(tmp_path / "missing.toml")
