# Shared by scripts/demo and scripts/test: system packages (Debian/Ubuntu) and the Python environment.
# Sourced, not run. Installs only what is missing, so a prepared machine starts at once.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_install_missing() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "Installing system packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

python_env() {
  # $1: pip extras, e.g. "[test]" or ""
  local python="${PYTHON:-python3}"
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Custodes needs Python 3.11 or newer (found $("$python" --version))." >&2
    exit 2
  fi
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv 2>/dev/null || { apt_install_missing python3-venv; "$python" -m venv .venv; }
  fi
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".$1"
}

# WeasyPrint (PDFs) needs Pango; fonts for PDFs and charts.
RUNTIME_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
