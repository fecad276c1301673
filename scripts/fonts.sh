#!/usr/bin/env bash
# Installs the CJK font the PDF reports are written with (Debian package fonts-noto-cjk) when it
# is missing. Needs root and apt; elsewhere it says what to do (REPORT_FONT may name a font
# file instead; without either, PDF downloads answer 503 and say so).
set -u
dpkg -s fonts-noto-cjk >/dev/null 2>&1 && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing fonts-noto-cjk for the PDF reports"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null
  exit 0
fi
echo "PDF reports need a CJK font: apt-get install fonts-noto-cjk (or set REPORT_FONT)" >&2
exit 0
