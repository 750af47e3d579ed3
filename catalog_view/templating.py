"""jinja2 rendering with StrictUndefined: a missing variable is an error, never
a silent hole in a config file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jinja2

from catalog_view.errors import ConfigError


def render_text(template_dir: Path, name: str, variables: dict[str, Any]) -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )
    env.filters["regex_escape"] = re.escape
    env.filters["prefix"] = lambda value, prefix: f"{prefix}{value}"
    try:
        return env.get_template(name).render(**variables)
    except jinja2.UndefinedError as exc:
        raise ConfigError(f"template {name}: {exc.message}") from exc
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(f"no template {name} in {template_dir}") from exc
