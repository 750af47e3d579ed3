"""Render the Connect worker's properties from the local stack's template.

Runs in the image build (docker/connect/Dockerfile) and in tests/test_compose.py,
so the container's worker config and the local one cannot drift: same template,
same renderer (catalog_view.templating.render_text, StrictUndefined).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog_view.templating import render_text

TEMPLATE = "connect-distributed.properties.j2"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--templates", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--rest-port", type=int, required=True)
    parser.add_argument("--group-id", required=True)
    parser.add_argument("--plugin-path", required=True)
    args = parser.parse_args()
    text = render_text(
        args.templates,
        TEMPLATE,
        {
            "host": args.host,
            "bootstrap_servers": args.bootstrap_servers,
            "group_id": args.group_id,
            "rest_port": args.rest_port,
            "plugin_path": args.plugin_path,
        },
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
