#!/usr/bin/env bash
# Installs the system packages moonlab needs, when they are missing. Idempotent and quiet
# when everything is there. Every entry point (test.sh, .ci/run) calls it.
set -euo pipefail

# moonlab builds its own Lua (Sources/CLua); liblua5.4-dev stays for MOONLAB_SYSTEM_LUA=1
# builds and Benchmarks/tensor_index_floor.c, lua5.4 is the peer of the Lua benchmarks, and
# lua-cjson / lua-lpeg are the C modules the tests load.
packages=(liblua5.4-dev libedit-dev zlib1g-dev libopenblas-dev libpcre2-dev pkg-config lua5.4 lua-cjson lua-lpeg)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
