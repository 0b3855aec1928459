# Sourced by scripts/setup.sh and bench/setup.sh: root commands and the Debian packages that are
# missing, installed in one apt run (apt-get update only when something is missing).

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "need root (or sudo) to run: $*" >&2
    exit 1
  fi
}

# install_missing_packages LOG_FUNCTION PACKAGE...
install_missing_packages() {
  local log_fn="$1"; shift
  local missing=() pkg status
  for pkg in "$@"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)"
    [ "$status" = "installed" ] || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    "$log_fn" "Debian packages: all $# installed, skipping apt"
    return 0
  fi
  "$log_fn" "Debian packages missing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
}
