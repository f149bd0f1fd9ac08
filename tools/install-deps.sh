#!/usr/bin/env bash
# install-deps.sh [build|test|all] — installs the Debian 12 packages Sluice needs that are not
# installed yet. Only the package installation uses sudo (not needed as root).
#   build  compilers and libraries to build the engine, the CLI, the helper and the app
#   test   build + what the test suite runs: Ceph RGW (the S3 server), exiftool, Xvfb and
#          xdotool (the app on X11, with real clicks), Weston (the app on Wayland, headless),
#          desktop-file-utils, appstream, gettext, bubblewrap (the Flatpak sandbox emulation),
#          clang with its sanitizer and libFuzzer runtimes (the fuzz smoke test),
#          gnome-keyring and dbus (a real Secret Service for the app tests; procps's pgrep
#          finds a keyring daemon that outlived its session), stunnel4 (a TLS
#          endpoint in front of the test server), locales (the de_DE.UTF-8 locale the German
#          UI test runs in, generated here when missing)
set -euo pipefail

build_pkgs=(
  gcc pkg-config meson ninja-build gettext
  libglib2.0-dev libgtk-4-dev libadwaita-1-dev
  libcurl4-openssl-dev libsqlite3-dev libexif-dev libssl-dev libjson-glib-dev
  libseccomp-dev libsecret-1-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libwebp-dev
  libheif-dev libde265-dev libdav1d-dev libtiff-dev
  libglib2.0-bin shared-mime-info librsvg2-common fonts-dejavu-core
)
test_pkgs=(
  ceph-mon ceph-osd radosgw ceph-common curl
  libimage-exiftool-perl python3
  xvfb xauth xdotool weston desktop-file-utils appstream
  bubblewrap clang libclang-rt-14-dev
  gnome-keyring dbus procps stunnel4 locales
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

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}" >&2
  $sudo apt-get update -q >/dev/null
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# The German UI test needs the de_DE.UTF-8 locale (gettext ignores LANGUAGE under the C
# locale). A fresh Debian has /etc/locale.gen with every line commented out: enable ours there
# (so that a later locale-gen keeps it) and build just this one with localedef, as locale-gen
# would, without rebuilding the others.
if [ "${1:-all}" != build ] && ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
  echo "Generating the de_DE.UTF-8 locale" >&2
  if grep -q '^# *de_DE\.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
    $sudo sed -i 's/^# *\(de_DE\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  elif ! grep -q '^de_DE\.UTF-8 UTF-8' /etc/locale.gen 2>/dev/null; then
    echo 'de_DE.UTF-8 UTF-8' | $sudo tee -a /etc/locale.gen >/dev/null
  fi
  $sudo localedef -i de_DE -c -f UTF-8 -A /usr/share/locale/locale.alias de_DE.UTF-8
fi
