#!/usr/bin/env bash
# Debian tools the tests need: espeak-ng, sox and ffmpeg render the synthetic test and eval
# calls; chromium is the real browser the dashboard's tests drive (Playwright's own browser
# download does not work offline, the distribution's package does); ab (apache2-utils) runs the
# seed's own load test line against a raw-body upload.
set -euo pipefail
missing=()
for tool in espeak-ng sox ffmpeg chromium ab; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (speech synthesis for the eval calls; the dashboard's browser tests; ab)" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    espeak-ng sox libsox-fmt-all ffmpeg chromium fonts-dejavu-core apache2-utils >/dev/null
fi
