"""The commands that train: `train` and `pretrain`, new or resumed."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .distributed import launched_rank, launched_world_size
from .errors import UserError


def resolve_config(args: argparse.Namespace, base=None):
    """The preset or config file (or `base`), then --epochs/--seed/--device, then every --set."""
    from .config_io import layered_config

    default = "best" if args.command == "pretrain" else "seed000"
    preset = args.preset or (default if not args.config and base is None else None)
    flags = {}
    for flag in ("epochs", "seed", "device"):
        value = getattr(args, flag)
        if value is not None:
            section = "pretrain" if flag == "epochs" and args.command == "pretrain" else "train"
            flags[f"{section}.{flag}"] = value
    return layered_config(preset, args.config, base, flags, args.set)


def new_run(args: argparse.Namespace, default_preset: str, prefix: str):
    """Config, name and output directory of a run that starts now (runs/PREFIXNAME-TIMESTAMP by default)."""
    config = resolve_config(args)
    if args.limit is not None and args.limit < 2:
        raise UserError("--limit must be at least 2")
    name = args.preset or (Path(args.config).stem if args.config else default_preset)
    out = Path(args.out) if args.out else Path("runs") / f"{prefix}{name}-{time.strftime('%Y%m%d-%H%M%S')}"
    return config, name, out


def interrupted(stop: Exception, command: str, out: Path) -> int:
    out = getattr(stop, "run_dir", out)  # a run that replaces a model writes beside it until it is complete
    print(f"lstm-sentiment: {stop}; checkpoint saved. Continue with: lstm-sentiment {command} --resume {out}",
          file=sys.stderr)
    return 130


def run_train(args: argparse.Namespace) -> int:
    from .training_run import RunOptions, train_run

    if args.no_test and args.time_to_accuracy is not None:
        raise UserError("--time-to-accuracy measures the test split; it cannot be combined with --no-test")
    if args.checkpoint_every < 0:
        raise UserError("--checkpoint-every must be >= 0")
    if args.resume:
        config, options, out, checkpoint = resume_arguments(args)
    else:
        from .data.sources import resolve_data_path

        config, name, out = new_run(args, "seed000", "")
        if args.pretrained and not Path(args.pretrained).is_dir():
            raise UserError(f"--pretrained {args.pretrained}: no such directory")
        options = RunOptions(str(resolve_data_path(args.data)), args.limit, not args.no_cache, name,
                             args.time_to_accuracy, "validation" if args.no_test else "test", args.checkpoint_every,
                             str(Path(args.pretrained).resolve()) if args.pretrained else None,
                             overwrite=args.overwrite)
        checkpoint = None
    from .train import Interrupted

    try:
        metrics = train_run(config, options, out, progress=not args.quiet, resume=checkpoint)
    except Interrupted as stop:
        return interrupted(stop, "train", out) if launched_rank() == 0 else 130
    if metrics is None:  # a torchrun process other than rank 0: rank 0 reports
        return 0
    print(f"{metrics['split']} accuracy {metrics['accuracy']:.4f} (best epoch {metrics['best_epoch']} of "
          f"{metrics['epochs_run']}, {metrics['seconds']:.0f}s); model saved to {out}")
    if options.time_to_accuracy is not None:
        reached = metrics["time_to_accuracy"]
        print(f"test accuracy {options.time_to_accuracy} first reached at epoch {reached['epoch']}, "
              f"{reached['seconds']}s" if reached["epoch"] else f"test accuracy never reached {options.time_to_accuracy}")
    return 0


def run_pretrain(args: argparse.Namespace) -> int:
    from .pretrain import PretrainOptions, pretrain_run
    from .train import Interrupted

    if launched_world_size() > 1:
        raise UserError("pretrain runs in one process; start it without torchrun (train supports torchrun)")

    if args.checkpoint_every < 0:
        raise UserError("--checkpoint-every must be >= 0")
    if args.resume:
        config, options, out, checkpoint = resume_arguments(args, PretrainOptions)
    else:
        from .data.sources import resolve_data_path

        config, name, out = new_run(args, "best", "lm-")
        options = PretrainOptions(str(resolve_data_path(args.data)), args.limit, not args.no_cache, name,
                                  args.checkpoint_every, overwrite=args.overwrite)
        checkpoint = None
    try:
        metrics = pretrain_run(config, options, out, progress=not args.quiet, resume=checkpoint)
    except Interrupted as stop:
        return interrupted(stop, "pretrain", out)
    print(f"validation perplexity {metrics['validation_perplexity']:.1f} after {metrics['epochs']} epochs "
          f"({metrics['seconds']:.0f}s); language model saved to {out}; fine-tune with "
          f"`lstm-sentiment train --pretrained {out}`")
    return 0


def resume_arguments(args: argparse.Namespace, options_type=None):
    """The saved config and options of the run to resume; anything on the command line that would change the
    config is refused, naming the keys."""
    from .checkpoint import config_differences, load_checkpoint
    from .config_io import config_from_dict
    from .training_run import RunOptions

    if args.out and Path(args.out) != Path(args.resume):
        raise UserError("--resume continues in its own directory; leave out --out")
    out = Path(args.resume)
    checkpoint = load_checkpoint(out)
    saved = checkpoint.config
    kind = "pretrain" if saved.get("kind") == "pretrain" else "train"
    if kind != args.command:
        raise UserError(f"{out} is a `{kind}` run; continue it with `lstm-sentiment {kind} --resume {out}`")
    config = config_from_dict(saved["config"], source=str(out / "checkpoint.safetensors"))
    # keys added since the run began take their defaults on both sides, so an older checkpoint still resumes
    differences = config_differences(config.to_dict(), resolve_config(args, base=config).to_dict())
    if differences:  # flags that leave the config as it was are accepted
        raise UserError(f"cannot resume {out} with a different config: {'; '.join(differences)}")
    options = (options_type or RunOptions)(**saved["options"])
    if args.data:
        from .data.sources import resolve_data_path

        options.data_path = str(resolve_data_path(args.data))
    if args.checkpoint_every:
        options.checkpoint_every = args.checkpoint_every
    return config, options, out, checkpoint
