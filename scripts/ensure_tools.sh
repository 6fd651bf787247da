#!/usr/bin/env bash
# Debian tools that render the synthetic test and eval calls (espeak-ng, sox, ffmpeg).
set -euo pipefail
missing=()
for tool in espeak-ng sox ffmpeg; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (speech synthesis for the eval calls)" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq espeak-ng sox libsox-fmt-all ffmpeg >/dev/null
fi
