#!/usr/bin/env bash
# install-deps.sh [build|test|all] — installs the Debian 12 packages Sluice needs that are not
# installed yet. Only the package installation uses sudo (not needed as root).
#   build  compilers and libraries to build the engine, the CLI, the helper and the app
#   test   build + what the test suite runs: Ceph RGW (the S3 server), exiftool, Xvfb,
#          desktop-file-utils, appstream, gettext, bubblewrap (the Flatpak sandbox emulation),
#          clang with its sanitizer and libFuzzer runtimes (the fuzz smoke test),
#          gnome-keyring and dbus (a real Secret Service for the app tests), stunnel4 (a TLS
#          endpoint in front of the test server)
set -euo pipefail

build_pkgs=(
  gcc pkg-config meson ninja-build gettext
  libglib2.0-dev libgtk-4-dev libadwaita-1-dev
  libcurl4-openssl-dev libsqlite3-dev libexif-dev libssl-dev libjson-glib-dev
  libseccomp-dev libsecret-1-dev
  libglib2.0-bin shared-mime-info librsvg2-common fonts-dejavu-core
)
test_pkgs=(
  ceph-mon ceph-osd radosgw ceph-common curl
  libimage-exiftool-perl python3
  xvfb xauth desktop-file-utils appstream
  bubblewrap clang libclang-rt-14-dev
  gnome-keyring dbus stunnel4
)

case "${1:-all}" in
  build) want=("${build_pkgs[@]}") ;;
  test|all) want=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
