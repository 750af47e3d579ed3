"""Options declared once: a dataclass field made with `cli_field` carries its
default, and the flag and help text by which a command line sets it.
`add_fields` builds the arguments from the fields; `values_from_args` reads
them back, so no default or flag is written twice."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_MISSING: Any = object()


@dataclass(frozen=True)
class CliSpec:
    help: str
    flag: str | None = None
    # What the command line starts from when it differs from the field's
    # default (e.g. None for "random, decided at run time").
    cli_default: Any = _MISSING
    # Turns the text given on the command line into the field's value.
    parse: Callable[[str], Any] | None = None
    argparse: dict[str, Any] = dataclasses.field(default_factory=dict)


def cli_field(
    default: Any,
    help: str,
    *,
    flag: str | None = None,
    cli_default: Any = _MISSING,
    parse: Callable[[str], Any] | None = None,
    **argparse_options: Any,
) -> Any:
    """A dataclass field with `default` that the command line sets by `flag`
    (default: --the-field-name)."""
    spec = CliSpec(help, flag, cli_default, parse, argparse_options)
    return dataclasses.field(default=default, metadata={"cli": spec})


def _specs(cls: type) -> list[tuple[dataclasses.Field[Any], CliSpec]]:
    return [(f, f.metadata["cli"]) for f in dataclasses.fields(cls) if "cli" in f.metadata]


def add_fields(parser: argparse.ArgumentParser, cls: type) -> None:
    """One argument per field of `cls` made with cli_field."""
    for f, spec in _specs(cls):
        flag = spec.flag or "--" + f.name.replace("_", "-")
        default = f.default if spec.cli_default is _MISSING else spec.cli_default
        options: dict[str, Any] = {"dest": f.name, "default": default, "help": spec.help}
        if f.default is False:
            options["action"] = "store_true"
        else:
            if "choices" not in spec.argparse:
                options["metavar"] = flag.lstrip("-").replace("-", "_").upper()
            if spec.parse is None and isinstance(f.default, (int, float)):
                options["type"] = type(f.default)
        parser.add_argument(flag, **{**options, **spec.argparse})


def values_from_args(cls: type, args: argparse.Namespace) -> dict[str, Any]:
    """The values of the fields of `cls` made with cli_field, as given on the
    command line (parsed where the field says how; empty text: the default)."""
    values = {}
    for f, spec in _specs(cls):
        value = getattr(args, f.name)
        if spec.parse is not None and isinstance(value, str):
            value = spec.parse(value) if value else f.default
        values[f.name] = value
    return values
