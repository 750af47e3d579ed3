#!/usr/bin/env bash
# Installs what catalog-view needs on a fresh Debian machine, idempotently:
# Debian packages (as root), the Python virtual environment, the stack's jars.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
packages=()
command -v java >/dev/null || packages+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || packages+=(maven)
[ -x "/usr/lib/postgresql/${PG_MAJOR}/bin/initdb" ] || packages+=("postgresql-${PG_MAJOR}")
command -v docker-compose >/dev/null || packages+=(docker-compose)
command -v runuser >/dev/null || packages+=(util-linux)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${packages[*]} (run as root, or install them)" >&2
    exit 1
  fi
  echo "setup: apt-get install ${packages[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d keeps the package from starting its own cluster on 5432:
  # the project runs its own cluster under its data directory.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
stamp=.venv/.pyproject-sha256
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv and installing the project (apache-flink is large: ~1 min)" >&2
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

.venv/bin/catalog-view jars >/dev/null
echo "setup: ready" >&2
