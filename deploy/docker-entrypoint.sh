#!/bin/sh
# The image's entrypoint. Each Docker secret granted to the container (a file /run/secrets/NAME,
# as `docker compose` mounts a service's `secrets:`) becomes the variable NAME, which the hub's
# settings read like any other; then the command runs. A secret stays out of the container's
# configuration (`docker inspect`), unlike a variable set in `environment:`.
# Kubernetes runs the command directly (its `command:` replaces this) and gives secrets as
# variables from a Secret instead.
set -eu

dir="${AUDIOHUB_SECRETS_DIR:-/run/secrets}"
if [ -d "$dir" ]; then
  for file in "$dir"/*; do
    [ -f "$file" ] || continue
    name="${file##*/}"
    # Only names a variable can have: the hub's are upper case (SERVICE_TOKEN, GEMINI_API_KEY).
    case "$name" in
      *[!A-Z0-9_]* | [0-9]*) continue ;;
    esac
    if printenv "$name" >/dev/null 2>&1; then
      echo "audiohub: $name is set both as a variable and as the secret $file; keep one" >&2
      exit 64
    fi
    export "$name=$(cat "$file")"
  done
fi
exec "$@"
