"""Reading configs: named presets (presets/*.toml), TOML files, nested dicts (a model's config.json) and
`--set` overrides, each checked and typed against the dataclasses of config.py, and the one way they layer."""

from __future__ import annotations

import copy
import dataclasses
import tomllib
import types
import typing
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from .config import SECTIONS, Config
from .errors import UserError


def preset_names() -> list[str]:
    folder = resources.files("lstm_sentiment") / "presets"
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> Config:
    path = resources.files("lstm_sentiment") / "presets" / f"{name}.toml"
    if not path.is_file():
        raise UserError(f"unknown preset {name!r}; available: {', '.join(preset_names())}")
    return config_from_dict(tomllib.loads(path.read_text(encoding="utf-8")), source=f"preset {name}")


def load_config_file(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None
    return config_from_dict(raw, source=str(path))


def missing_keys(raw: dict[str, Any], sections: tuple[str, ...] = ("data", "model", "train")) -> list[str]:
    """Dotted keys of `sections` that a nested config dict does not set."""
    defaults = Config()
    return [f"{section}.{f.name}" for section in sections for f in dataclasses.fields(getattr(defaults, section))
            if f.name not in (raw.get(section) or {})]


def config_from_dict(raw: dict[str, Any], source: str = "config") -> Config:
    """Build a Config from nested dicts, rejecting unknown sections, unknown keys and wrong types."""
    config = Config()
    for section, values in raw.items():
        if section not in SECTIONS:
            raise UserError(f"{source}: unknown section [{section}] (expected {', '.join(SECTIONS)})")
        if not isinstance(values, dict):
            raise UserError(f"{source}: [{section}] must be a table")
        target = getattr(config, section)
        for key, value in values.items():
            set_field(target, key, value, f"{source}: {section}.{key}")
    return config.validate()


def set_field(target: Any, key: str, value: Any, where: str) -> None:
    fields = {f.name: f for f in dataclasses.fields(target)}
    if key not in fields:
        raise UserError(f"{where}: unknown key (known: {', '.join(fields)})")
    hints = typing.get_type_hints(type(target))
    setattr(target, key, _coerce(value, hints[key], where))


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, where)
            except UserError as exc:
                errors.append(str(exc))
        raise UserError(errors[0])
    if origin is list:
        (item_type,) = typing.get_args(annotation)
        if not isinstance(value, list):
            raise UserError(f"{where}: expected a list, got {type(value).__name__}")
        return [_coerce(v, item_type, where) for v in value]
    if annotation is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if annotation in (int, float, str, bool):
        if type(value) is not annotation:
            raise UserError(f"{where}: expected {annotation.__name__}, got {type(value).__name__} {value!r}")
        return value
    raise TypeError(f"unsupported annotation {annotation!r}")


def layered_config(preset: str | None = None, file: str | Path | None = None, base: Config | None = None,
                   values: dict[str, Any] | None = None, assignments: Sequence[str] = ()) -> Config:
    """The one way configs are layered: dataclass defaults, then a preset, a TOML file or a copy of `base` (the
    first given), then `values` ({"train.seed": 3}, checked and typed as a file's), then `--set` assignments."""
    if file is not None:
        config = load_config_file(file)
    elif preset is not None:
        config = load_preset(preset)
    else:
        config = copy.deepcopy(base) if base is not None else Config()
    for dotted, value in (values or {}).items():
        section, _, key = dotted.partition(".")
        if section not in SECTIONS or not key:
            raise UserError(f"{dotted}: expected section.key with a section among {', '.join(SECTIONS)}")
        set_field(getattr(config, section), key, value, dotted)
    for assignment in assignments:
        apply_override(config, assignment)
    return config.validate()


def apply_override(config: Config, assignment: str) -> None:
    """Apply `section.key=value` where value is parsed as TOML (so `0.5`, `[128, 64]`, `true` work)."""
    if "=" not in assignment or "." not in assignment.split("=", 1)[0]:
        raise UserError(f"--set expects section.key=value, got {assignment!r}")
    dotted, text = assignment.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    if section not in SECTIONS:
        raise UserError(f"--set {assignment}: unknown section {section!r} (expected {', '.join(SECTIONS)})")
    try:
        value = tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = text.strip()  # a bare word such as `post` or `adamw`
    set_field(getattr(config, section), key, value, f"--set {dotted}")
    config.validate()
