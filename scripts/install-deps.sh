#!/usr/bin/env bash
# Installs the Debian 12 packages innsyn needs to build, test and run, if
# any are missing. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  librocksdb-dev rocksdb-tools
  libssl-dev openssl
  prometheus-cpp-dev
  libabsl-dev
  libgtest-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev
  libsystemd-dev systemd
  libcpp-httplib-dev      # innsynd's HTTP listener (daemon/http)
  prometheus python3
  clang libclang-rt-dev  # the sanitizer and libFuzzer build (scripts/test-sanitizers.sh)
  clang-format git        # scripts/check-format.sh
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
