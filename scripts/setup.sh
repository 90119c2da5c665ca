#!/usr/bin/env bash
# Installs what Kiln needs to build and test, from Debian's packages. Idempotent: installs only
# what is missing, and runs `apt-get update` only when something is.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git ccache
  libboost-dev libboost-system-dev libleveldb-dev libsnappy-dev libsodium-dev
  librapidcheck-dev libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev libfmt-dev
  libcli11-dev nlohmann-json3-dev clang
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi
