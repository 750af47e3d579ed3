#!/usr/bin/env bash
# Installs what catalog-view needs on a fresh Debian machine, idempotently:
# Debian packages (as root), the Python virtual environment, the stack's jars.
# Versions are checked, not mere presence: an old python3 or java on PATH
# counts as missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PG_MAJOR=15
JAVA_MAJOR=17
PYTHON=${PYTHON:-python3}
# The interpreter range the project declares (requires-python = ">=3.10,<3.13").
requires=$(sed -n 's/^requires-python *= *"\(.*\)"/\1/p' pyproject.toml)
py_min=$(sed -n 's/.*>=\([0-9]*\.[0-9]*\).*/\1/p' <<<"$requires")
py_below=$(sed -n 's/.*<\([0-9]*\.[0-9]*\).*/\1/p' <<<"$requires")
if [ -z "$py_min" ] || [ -z "$py_below" ]; then
  echo "setup: pyproject.toml: cannot read requires-python '$requires' (want >=X.Y,<X.Y)" >&2
  exit 1
fi

# Whether $PYTHON is in the declared range and can build a venv (Debian keeps
# ensurepip in python3-venv).
python_ok() {
  command -v "$PYTHON" >/dev/null || return 1
  "$PYTHON" - "$py_min" "$py_below" <<'EOF' 2>/dev/null
import sys
low, below = (tuple(int(p) for p in v.split(".")) for v in sys.argv[1:3])
if not low <= sys.version_info[:2] < below:
    sys.exit(1)
import ensurepip, venv  # noqa: F401,E401
EOF
}

# The major version of a JDK tool on PATH (javac: a JRE alone cannot build jvm/), or 0.
java_major() {
  local line major
  command -v "$1" >/dev/null || { echo 0; return; }
  line=$("$1" -version 2>&1 | head -n 1) || true
  # "javac 17.0.15" / 'openjdk version "17.0.15" ...' / 'java version "1.8.0_392"'
  major=$(sed -n 's/^[^0-9]*\(1\.\)\{0,1\}\([0-9][0-9]*\).*/\2/p' <<<"$line" | head -n 1)
  echo "${major:-0}"
}

java_ok() {
  command -v java >/dev/null && command -v javac >/dev/null || return 1
  [ "$(java_major java)" -ge "$JAVA_MAJOR" ] && [ "$(java_major javac)" -ge "$JAVA_MAJOR" ]
}

packages=()
python_ok || packages+=(python3 python3-venv)
java_ok || packages+=("openjdk-${JAVA_MAJOR}-jdk-headless")
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

# What a package cannot fix: a distribution whose python3 is out of range, or
# an older java chosen by hand in update-alternatives.
if ! python_ok; then
  echo "setup: $PYTHON must be Python >=${py_min},<${py_below} with venv and ensurepip" \
    "(python3-venv); found: $(command -v "$PYTHON" >/dev/null && "$PYTHON" --version 2>&1 || echo none)." \
    "Set PYTHON=/path/to/python3.X to use another interpreter." >&2
  exit 1
fi
if ! java_ok; then
  echo "setup: java and javac must be ${JAVA_MAJOR} or newer; found: java $(java_major java)," \
    "javac $(java_major javac). Choose a JDK ${JAVA_MAJOR}+ with" \
    "'update-alternatives --config java' and '--config javac'." >&2
  exit 1
fi

# Flink's local cluster looks up this machine's own name (Java's
# InetAddress.getLocalHost) and cannot start when it does not resolve. Debian's
# installer maps it to 127.0.1.1 in /etc/hosts; a bare root filesystem may not.
host=$(uname -n)
if ! getent hosts "$host" >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: this machine's name '$host' does not resolve; Flink's local cluster" \
      "needs it: add '127.0.1.1 $host' to /etc/hosts (as root)" >&2
    exit 1
  fi
  echo "setup: adding '127.0.1.1 $host' to /etc/hosts (Flink resolves the machine's name)" >&2
  printf '127.0.1.1\t%s\n' "$host" >> /etc/hosts
fi

stamp=.venv/.pyproject-sha256
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
version='import sys; print(sys.version.split()[0])'
if [ -x .venv/bin/python ] && [ "$(.venv/bin/python -c "$version")" != "$("$PYTHON" -c "$version")" ]; then
  echo "setup: .venv was made by another Python: making it anew" >&2
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: creating .venv and installing the project (apache-flink is large: ~1 min)" >&2
  "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e '.[dev]'
  echo "$want" > "$stamp"
fi

.venv/bin/catalog-view jars >/dev/null
echo "setup: ready" >&2
