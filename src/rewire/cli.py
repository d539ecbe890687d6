"""Command line, generated from the experiment configs (``rewire/configs.py``): each config
field is one option (type, default, help, choices, bounds), checked before anything is
written; every command also takes ``--config FILE`` (JSON or TOML) and ``--print-config``.
A user error is one line and exit code 2; a failure inside rewire is one line naming the
file that holds its traceback (exit 1); Ctrl-C exits 130 (re-run to resume). Building the
parser imports no torch, so ``rewire --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import traceback
import typing
from dataclasses import MISSING, asdict, fields
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import configs as C
from .extras import MissingExtra, extra_for, missing_line, require

__all__ = ["main", "build_parser", "COMMANDS"]

COMMANDS = {"siren": C.SirenRun, "sweep": C.SweepRun, "sense": C.SenseRun,
            "neighbours": C.NeighboursRun, "freenet": C.FreeNetRun,
            "freenet-table": C.FreeNetTableRun, "freenet-theorem": C.TheoremRun,
            "prune-ffn": C.PruneFFNConfig, "prune-rnn": C.PruneRNNConfig,
            "priors": C.PriorsConfig, "predict": C.PredictRun, "report": C.ReportRun,
            "car expert": C.CarExpertRun, "car record": C.CarRecordRun,
            "car drive": C.CarDriveRun, "car train": C.CarTrainRun,
            "nas search": C.NasSearchRun, "nas train": C.NasTrainRun,
            "nas draw": C.NasDrawRun}  # "group leaf"
USER_ERRORS = (ValueError, LookupError, OSError, EOFError)


class UsageError(Exception): ...


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not usage + message
        raise UsageError(f"{self.prog}: error: {message}")


SCALARS = {int: ("integer", int), float: ("number", float), str: ("text", str)}


def _named(name: str, fn):  # argparse says "invalid <name> value"
    fn.__name__ = name
    return fn


def _converter(f, kind):
    """Text -> value for one field: scalars, comma-separated lists, or the field's parser."""
    if f.metadata.get("parse"):
        return _named(f.name.replace("_", " "), lambda text: f.metadata["parse"](text))
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) not in (list, tuple) and len(args) == 1:
        kind = args[0]  # X | None
    if typing.get_origin(kind) in (list, tuple):
        name, item = SCALARS[typing.get_args(kind)[0]]
        return _named(f"comma-separated {name}",
                      lambda text: [item(v) for v in text.split(",") if v.strip()])
    name, conv = SCALARS[kind]
    return _named(name, lambda text: conv(text))


def _shown(value) -> str:
    return ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def _add_options(p: argparse.ArgumentParser, cls) -> None:
    hints = typing.get_type_hints(cls)
    for f in fields(cls):
        m, kind = f.metadata, hints[f.name]
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        text = m.get("help", "")
        if m.get("choices") and not m.get("positional"):
            text += f"; one of {', '.join(m['choices'])}"
        if m.get("required"):
            text += " (required)"
        elif default not in (MISSING, None) and kind is not bool and "default" not in text:
            text += f" (default: {_shown(default)})"
        if m.get("positional"):
            p.add_argument(f.name, help=text)
            continue
        how = ({"action": argparse.BooleanOptionalAction if default else "store_true"}
               if kind is bool else {"type": _converter(f, kind), "metavar": m.get("metavar")})
        p.add_argument("--" + f.name.replace("_", "-"), help=text, default=argparse.SUPPRESS,
                       **how)


def _version() -> str:
    try:
        return version("rewire")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rewire", description="the wiring of sparse, ternary and "
                    "topology-learned neural networks")
    parser.add_argument("--version", action="version", version=f"rewire {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict = {}
    for name, cls in COMMANDS.items():
        about = (cls.__doc__ or "").split(":", 1)[-1].strip()
        group, _, leaf = name.rpartition(" ")
        if group and group not in groups:
            groups[group] = sub.add_parser(group, help=f"{group} commands").add_subparsers(
                dest="leaf", required=True, metavar="COMMAND")
        p = (groups[group] if group else sub).add_parser(leaf, help=about, description=about)
        _add_options(p, cls)
        p.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS,
                       help="read options from a JSON or TOML file (flags given here win)")
        p.add_argument("--print-config", action="store_true", default=argparse.SUPPRESS,
                       help="print the resolved config as JSON and exit")
    return parser


def parse_config(argv: list[str] | None = None):
    """``(command, config, print_config)`` from the command line; raises on bad input."""
    args = vars(build_parser().parse_args(argv))
    command = " ".join(filter(None, [args.pop("command"), args.pop("leaf", None)]))
    cls = COMMANDS[command]
    show = args.pop("print_config", False)
    values = C.read_config_file(args.pop("config")) if "config" in args else {}
    unknown = set(values) - {f.name for f in fields(cls)}
    if unknown:
        raise ValueError(f"--config: unknown option(s) {', '.join(sorted(unknown))} for "
                         f"rewire {command}")
    values.update(args)
    missing = [f.name for f in fields(cls) if f.metadata.get("required")
               and values.get(f.name) is None]
    if missing:
        raise UsageError(f"rewire {command}: error: the following arguments are required: "
                         f"{', '.join('--' + m.replace('_', '-') for m in missing)}")
    try:
        return command, cls(**values), show
    except TypeError as exc:  # a config file value of the wrong shape
        raise ValueError(f"rewire {command}: {exc}") from None


def _only_config(out: str) -> bool:
    """True when ``out`` holds nothing but its config and timing (no work to keep)."""
    files = [p for p in Path(out).rglob("*") if p.is_file()]
    return all(p.name in ("config.json", "timing.json") for p in files)


def _crash_file() -> str:
    fd, path = tempfile.mkstemp(prefix="rewire-traceback-", suffix=".txt")
    with os.fdopen(fd, "w") as f:
        f.write(traceback.format_exc())
    return path


def main(argv: list[str] | None = None) -> int:
    out = None
    try:
        command, cfg, show = parse_config(argv)
        if show:
            print(json.dumps(asdict(cfg), indent=2))
            return 0
        out = getattr(cfg, "out", None)
        out = out if out and not os.path.exists(out) else None  # made by this command
        if command != "report":  # every experiment draws its plots
            require("matplotlib", f"rewire {command} (its plots)")
        from .experiments import commands

        getattr(commands, command.replace("-", "_").replace(" ", "_"))(cfg)
        return 0
    except UsageError as exc:
        code = 2
        print(exc, file=sys.stderr)
    except USER_ERRORS as exc:
        code, msg = 2, exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"rewire: error: {msg}", file=sys.stderr)
    except ModuleNotFoundError as exc:  # an optional dependency: which extra brings it
        missing = exc.name or ""
        code = 2 if extra_for(missing) else 1
        print(f"rewire: error: {exc if isinstance(exc, MissingExtra) else missing_line(missing)}"
              if code == 2 else f"rewire: internal error ({exc}); the full traceback is in "
              f"{_crash_file()}", file=sys.stderr)
    except KeyboardInterrupt:
        code = 130
        print("rewire: interrupted; re-run the same command to resume", file=sys.stderr)
    except Exception as exc:  # a bug: one line here, the traceback in a file
        code = 1
        print(f"rewire: internal error ({type(exc).__name__}: {exc}); the full traceback is "
              f"in {_crash_file()}", file=sys.stderr)
    if out and os.path.isdir(out) and _only_config(out):
        shutil.rmtree(out)  # nothing was done: leave nothing behind
    return code


if __name__ == "__main__":
    sys.exit(main())
