#!/usr/bin/env bash
# Installs headless Chromium and CJK fonts for the browser tests when they are missing
# (Debian packages chromium, fonts-noto-cjk). Needs root and apt; elsewhere it says what to do.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  exit $?
fi
echo "browser tests need: ${need[*]} (apt-get install ${need[*]}); they will be skipped" >&2
exit 0
