#!/usr/bin/python3
"""Independent PyTorch reference implementation of mT5 (T5 v1.1) for the stilts golden tests.

Written only from the public definitions, not from the C++ code, so that agreement between the
two is evidence that both follow them: Hugging Face transformers' models/mt5/configuration_mt5.py
and models/t5/modeling_t5.py (architecture, parameter names, initialization, loader rules), its
optimization.py (Adafactor), and the safetensors format (huggingface/safetensors README and
safetensors/src/tensor.rs). Run it with Debian's
/usr/bin/python3 (torch 1.13, numpy); it needs neither transformers nor safetensors.

Module contents
  - safetensors reader (`read_safetensors`) and writer (`write_safetensors`), own implementation
  - BF16 <-> float32 bit conversions (round-to-nearest-even)
  - `MT5Config` (from an HF config.json dict), `MT5` (HF parameter names), `init_weights` (HF)
  - `shift_right`, `mt5_loss`, `example_nll`
  - `Adafactor` (the HF transformers formula)
  - HF model directories: `save_hf_model`, `read_hf_checkpoint`, `load_hf_model`

Script
  /usr/bin/python3 tests/golden/mt5_reference.py --config tests/golden/test-tiny.config.json \
      --out DIR [--seed 1234]
writes
  DIR/model/                config.json (copy) + model.safetensors, F32: the initial weights.
  DIR/model_sharded/        the same weights rounded to BF16 (round-to-nearest-even), split over
                            model-00001-of-00002.safetensors and model-00002-of-00002.safetensors
                            with model.safetensors.index.json. Its values differ from model/.
  DIR/model_f16/            the same weights rounded to F16, single file.
  DIR/model_hf_extras/      F32 like model/, plus encoder.embed_tokens.weight and
                            decoder.embed_tokens.weight (copies of shared.weight) and the ignorable
                            decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight,
                            to exercise transformers' loader rules (tied and ignored keys).
  DIR/expected.safetensors  inputs and expected outputs, listed below; the optimizer
                            hyper-parameters and z_loss are in __metadata__["settings"] (JSON).
All golden numbers are computed in float32 with dropout off (eval mode), from the weights of
DIR/model/ unless noted. V = vocab_size.
  input_ids I32 [3,11]        random ids in [2,V) ending in eos 1; example 1 is 7 tokens + 0 pads
  attention_mask I32 [3,11]   input_ids != 0 (encoder padding mask, also used by cross-attention)
  labels I32 [3,7]            ending in eos 1; example 2 is 5 tokens + -100 padding
  decoder_input_ids I32 [3,7] shift_right(labels): start 0, -100 -> 0
  logits F32 [3,7,V]          every position; the decoder self-attention is causal only (HF
                              default: no decoder padding mask), so compare ignored positions too
  loss F32 [1]                token-mean CE over labels != -100
  loss_z F32 [1]              the same plus z_loss * logsumexp^2 averaged over the same tokens
  example_nll F32 [3]         per-example summed NLL of the non-ignored labels
  grad.<hf name> F32          gradient of `loss` for every parameter (HF names)
  adafactor_losses F32 [10]   loss before update i, Adafactor settings["adafactor"], from DIR/model/
  adafactor_scaled_losses F32 [10]  the same with settings["adafactor_scaled"]
  adamw_losses F32 [10]       the same with torch AdamW settings["adamw"] after clip_grad_norm_
  bf16_logits F32 [3,7,V]     logits of the BF16 weights of DIR/model_sharded/, computed in float32
  long_input_ids I32 [1,150], long_labels I32 [1,140], long_decoder_input_ids I32 [1,140],
  long_logits F32 [1,140,V], long_loss F32 [1]
                              no padding; relative distances up to 149/139 reach every bucket
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import struct
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# --------------------------------------------------------------------------------------------
# safetensors
# --------------------------------------------------------------------------------------------

# dtype name -> (little-endian numpy storage dtype, alignment in bytes). BF16 is stored as its
# raw 16-bit pattern because numpy has no bfloat16.
SAFETENSORS_DTYPES: dict[str, tuple[np.dtype, int]] = {
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),
    "I32": (np.dtype("<i4"), 4),
    "I64": (np.dtype("<i8"), 8),
}
TORCH_TO_SAFETENSORS: dict[torch.dtype, str] = {
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int32: "I32",
    torch.int64: "I64",
}
# The safetensors reader refuses headers larger than this (safetensors/src/tensor.rs).
MAX_HEADER_LEN = 100_000_000


class SafetensorsError(ValueError):
    pass


def bf16_bits_to_float32(bits: np.ndarray) -> np.ndarray:
    """Widen BF16 bit patterns (uint16) to float32: BF16 is the top half of a float32."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def float32_to_bf16_bits(values: np.ndarray) -> np.ndarray:
    """Round float32 to BF16 with round-to-nearest-even; NaN becomes the quiet NaN 0x7FC0."""
    u = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    # Adding 0x7FFF plus the lowest kept bit rounds ties to even; the carry may propagate into
    # the exponent, which correctly rounds up to the next binade or to infinity.
    rounded = ((u + np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    bits = rounded.astype(np.uint16)
    bits[np.isnan(values)] = np.uint16(0x7FC0)
    return bits


def to_bfloat16(t: torch.Tensor) -> torch.Tensor:
    """float32 tensor -> torch.bfloat16 tensor, rounded by `float32_to_bf16_bits`."""
    bits = float32_to_bf16_bits(t.detach().to(torch.float32).contiguous().numpy())
    return torch.from_numpy(bits.view(np.int16)).view(torch.bfloat16)


@dataclass(frozen=True)
class TensorRecord:
    """One tensor as stored in a safetensors file."""

    dtype: str
    shape: tuple[int, ...]
    data: bytes  # little-endian, row-major

    def numpy(self) -> np.ndarray:
        """Values in the storage dtype; BF16 comes back as its uint16 bit patterns."""
        storage, _ = SAFETENSORS_DTYPES[self.dtype]
        return np.frombuffer(self.data, dtype=storage).reshape(self.shape)

    def float32(self) -> np.ndarray:
        """Floating values widened exactly to float32 (integers are converted too)."""
        raw = self.numpy()
        if self.dtype == "BF16":
            return bf16_bits_to_float32(raw)
        return raw.astype(np.float32)

    def torch(self) -> torch.Tensor:
        """Floating dtypes widened to torch.float32; integer dtypes kept."""
        arr = self.numpy() if self.dtype in ("I32", "I64") else self.float32()
        # copy: the buffer is read-only bytes, and torch wants native byte order
        return torch.from_numpy(arr.astype(arr.dtype.newbyteorder("="), copy=True))


@dataclass
class SafetensorsFile:
    path: str
    header_len: int
    header_bytes: bytes  # the N header bytes, padding included
    metadata: dict[str, str]
    offsets: dict[str, tuple[int, int]]  # in data order
    tensors: dict[str, TensorRecord]  # in data order
    file_size: int


def read_safetensors(path: str) -> SafetensorsFile:
    """Parse and validate a safetensors file (the rules of safetensors/src/tensor.rs)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise SafetensorsError(f"{path}: file shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER_LEN:
        raise SafetensorsError(f"{path}: header length {n} exceeds {MAX_HEADER_LEN}")
    if 8 + n > len(blob):
        raise SafetensorsError(f"{path}: header length {n} runs past the end of the file")
    header_bytes = blob[8 : 8 + n]
    if not header_bytes.startswith(b"{"):
        raise SafetensorsError(f"{path}: header does not start with '{{'")
    try:
        header = json.loads(header_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: invalid header JSON: {e}") from e
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")

    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise SafetensorsError(f"{path}: __metadata__ must map strings to strings")

    entries: list[tuple[int, int, str, str, tuple[int, ...]]] = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorsError(f"{path}: {name}: entry needs exactly dtype, shape, data_offsets")
        dtype, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dtype not in SAFETENSORS_DTYPES:
            raise SafetensorsError(f"{path}: {name}: unsupported dtype {dtype!r}")
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise SafetensorsError(f"{path}: {name}: bad shape {shape!r}")
        if (
            not isinstance(offs, list)
            or len(offs) != 2
            or not all(isinstance(o, int) for o in offs)
            or not 0 <= offs[0] <= offs[1]
        ):
            raise SafetensorsError(f"{path}: {name}: bad data_offsets {offs!r}")
        nbytes = math.prod(shape) * SAFETENSORS_DTYPES[dtype][0].itemsize
        if offs[1] - offs[0] != nbytes:
            raise SafetensorsError(
                f"{path}: {name}: data_offsets {offs} span {offs[1] - offs[0]} bytes, "
                f"shape {shape} of {dtype} needs {nbytes}"
            )
        entries.append((offs[0], offs[1], name, dtype, tuple(shape)))

    # Data must tile the buffer exactly: start at 0, no gaps, no overlaps.
    entries.sort()
    end = 0
    for begin, stop, name, _, _ in entries:
        if begin != end:
            raise SafetensorsError(
                f"{path}: {name}: data starts at {begin}, expected {end} (gap or overlap)"
            )
        end = stop
    if 8 + n + end != len(blob):
        raise SafetensorsError(
            f"{path}: file size {len(blob)} != 8 + header {n} + data {end}"
        )

    base = 8 + n
    return SafetensorsFile(
        path=path,
        header_len=n,
        header_bytes=header_bytes,
        metadata=dict(metadata),
        offsets={name: (b, e) for b, e, name, _, _ in entries},
        tensors={
            name: TensorRecord(dtype, shape, blob[base + b : base + e])
            for b, e, name, dtype, shape in entries
        },
        file_size=len(blob),
    )


def tensor_bytes(t: torch.Tensor) -> tuple[str, bytes]:
    """(safetensors dtype, little-endian bytes) of a CPU tensor."""
    if t.dtype not in TORCH_TO_SAFETENSORS:
        raise SafetensorsError(f"unsupported torch dtype {t.dtype}")
    dtype = TORCH_TO_SAFETENSORS[t.dtype]
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        t = t.view(torch.int16)  # numpy cannot hold bfloat16; its bits travel as int16
    storage = SAFETENSORS_DTYPES[dtype][0]
    return dtype, t.numpy().astype(storage.newbyteorder("<"), copy=False).tobytes()


def safetensors_sort_key(name: str, dtype: str) -> tuple[int, str]:
    """Writer order: larger dtype alignment first, then by name."""
    return (-SAFETENSORS_DTYPES[dtype][1], name)


def write_safetensors(
    path: str, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None
) -> None:
    """Write tensors the way the safetensors library does (safetensors/src/tensor.rs)."""
    items = []
    for name, t in tensors.items():
        dtype, data = tensor_bytes(t)
        items.append((safetensors_sort_key(name, dtype), name, dtype, tuple(t.shape), data))
    items.sort()

    header: dict[str, object] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for _, name, dtype, shape, data in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    header_bytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # Pad with spaces so that the data buffer starts at an 8-byte aligned file offset.
    header_bytes += b" " * (-len(header_bytes) % 8)

    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(header_bytes)))
        f.write(header_bytes)
        for *_, data in items:
            f.write(data)


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass
class MT5Config:
    vocab_size: int
    d_model: int
    d_kv: int
    d_ff: int
    num_heads: int
    num_layers: int
    num_decoder_layers: int
    relative_attention_num_buckets: int = 32
    relative_attention_max_distance: int = 128
    dropout_rate: float = 0.1
    layer_norm_epsilon: float = 1e-6
    initializer_factor: float = 1.0
    feed_forward_proj: str = "gated-gelu"
    tie_word_embeddings: bool = False
    pad_token_id: int = 0
    eos_token_id: int = 1
    decoder_start_token_id: int = 0

    @classmethod
    def from_hf_dict(cls, d: Mapping[str, object]) -> "MT5Config":
        """Build from an HF config.json dict, applying the HF MT5Config defaults."""
        cfg = cls(
            vocab_size=int(d["vocab_size"]),
            d_model=int(d["d_model"]),
            d_kv=int(d.get("d_kv", 64)),
            d_ff=int(d["d_ff"]),
            num_heads=int(d["num_heads"]),
            num_layers=int(d["num_layers"]),
            # HF: num_decoder_layers defaults to num_layers ("symmetry").
            num_decoder_layers=int(d.get("num_decoder_layers") or d["num_layers"]),
            relative_attention_num_buckets=int(d.get("relative_attention_num_buckets", 32)),
            relative_attention_max_distance=int(d.get("relative_attention_max_distance", 128)),
            dropout_rate=float(d.get("dropout_rate", 0.1)),
            layer_norm_epsilon=float(d.get("layer_norm_epsilon", 1e-6)),
            initializer_factor=float(d.get("initializer_factor", 1.0)),
            feed_forward_proj=str(d.get("feed_forward_proj", "gated-gelu")),
            tie_word_embeddings=bool(d.get("tie_word_embeddings", False)),
            pad_token_id=int(d.get("pad_token_id", 0)),
            eos_token_id=int(d.get("eos_token_id", 1)),
            decoder_start_token_id=int(d.get("decoder_start_token_id", 0)),
        )
        # This reference covers mT5 only: gated-gelu FFN and an untied, unscaled lm_head.
        if cfg.feed_forward_proj != "gated-gelu":
            raise NotImplementedError(f"feed_forward_proj {cfg.feed_forward_proj!r}")
        if cfg.tie_word_embeddings:
            raise NotImplementedError("tie_word_embeddings=true (mT5 unties lm_head)")
        return cfg

    @property
    def inner_dim(self) -> int:
        return self.num_heads * self.d_kv


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------


def relative_position_bucket(
    relative_position: torch.Tensor, bidirectional: bool, num_buckets: int, max_distance: int
) -> torch.Tensor:
    """HF-T5 `_relative_position_bucket`; relative_position = key_pos - query_pos (int64)."""
    buckets = torch.zeros_like(relative_position)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).to(torch.long) * num_buckets
        rel = relative_position.abs()
    else:
        rel = -torch.clamp(relative_position, max=0)
    max_exact = num_buckets // 2
    is_small = rel < max_exact
    # float32 logarithm as in HF. clamp(min=1) only avoids log(0) in lanes that `is_small`
    # selects away, so it does not change any bucket.
    large = max_exact + (
        torch.log(rel.clamp(min=1).float() / max_exact)
        / math.log(max_distance / max_exact)
        * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.clamp(large, max=num_buckets - 1)
    return buckets + torch.where(is_small, rel, large)


def at_least_fp32(t: torch.Tensor) -> torch.Tensor:
    """Upcast 16-bit floats to float32 (HF's `.float()`), leaving float64 (used by tests) alone."""
    return t.to(torch.promote_types(t.dtype, torch.float32))


def gelu_new(x: torch.Tensor) -> torch.Tensor:
    """tanh-approximated GELU (HF NewGELUActivation)."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class T5LayerNorm(nn.Module):
    """RMSNorm: no mean subtraction, no bias."""

    def __init__(self, d: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        var = at_least_fp32(x).pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


class T5Attention(nn.Module):
    def __init__(self, cfg: MT5Config, has_relative_attention_bias: bool, bidirectional: bool):
        super().__init__()
        self.n_heads, self.d_kv = cfg.num_heads, cfg.d_kv
        self.num_buckets = cfg.relative_attention_num_buckets
        self.max_distance = cfg.relative_attention_max_distance
        self.bidirectional = bidirectional
        self.dropout = cfg.dropout_rate
        self.q = nn.Linear(cfg.d_model, cfg.inner_dim, bias=False)
        self.k = nn.Linear(cfg.d_model, cfg.inner_dim, bias=False)
        self.v = nn.Linear(cfg.d_model, cfg.inner_dim, bias=False)
        self.o = nn.Linear(cfg.inner_dim, cfg.d_model, bias=False)
        if has_relative_attention_bias:
            self.relative_attention_bias = nn.Embedding(self.num_buckets, self.n_heads)

    def compute_bias(self, q_len: int, k_len: int) -> torch.Tensor:
        """[1, h, q_len, k_len] position bias."""
        context = torch.arange(q_len, dtype=torch.long)[:, None]
        memory = torch.arange(k_len, dtype=torch.long)[None, :]
        buckets = relative_position_bucket(
            memory - context, self.bidirectional, self.num_buckets, self.max_distance
        )
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

    def forward(self, x: torch.Tensor, kv: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """bias: position bias plus additive mask, broadcastable to [B, h, q, k]."""
        b = x.shape[0]

        def heads(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, -1, self.n_heads, self.d_kv).transpose(1, 2)

        q, k, v = heads(self.q(x)), heads(self.k(kv)), heads(self.v(kv))
        scores = torch.matmul(q, k.transpose(2, 3)) + bias  # T5: no 1/sqrt(d_kv)
        probs = F.softmax(at_least_fp32(scores), dim=-1).type_as(scores)
        probs = F.dropout(probs, p=self.dropout, training=self.training)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(b, -1, self.n_heads * self.d_kv)
        return self.o(out)


class T5LayerSelfAttention(nn.Module):
    def __init__(self, cfg: MT5Config, has_relative_attention_bias: bool, bidirectional: bool):
        super().__init__()
        self.SelfAttention = T5Attention(cfg, has_relative_attention_bias, bidirectional)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        n = self.layer_norm(h)
        return h + self.dropout(self.SelfAttention(n, n, bias))


class T5LayerCrossAttention(nn.Module):
    def __init__(self, cfg: MT5Config):
        super().__init__()
        self.EncDecAttention = T5Attention(cfg, has_relative_attention_bias=False, bidirectional=True)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, h: torch.Tensor, enc: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return h + self.dropout(self.EncDecAttention(self.layer_norm(h), enc, bias))


class T5DenseGatedActDense(nn.Module):
    def __init__(self, cfg: MT5Config):
        super().__init__()
        self.wi_0 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wi_1 = nn.Linear(cfg.d_model, cfg.d_ff, bias=False)
        self.wo = nn.Linear(cfg.d_ff, cfg.d_model, bias=False)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.wo(self.dropout(gelu_new(self.wi_0(x)) * self.wi_1(x)))


class T5LayerFF(nn.Module):
    def __init__(self, cfg: MT5Config):
        super().__init__()
        self.DenseReluDense = T5DenseGatedActDense(cfg)
        self.layer_norm = T5LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.dropout(self.DenseReluDense(self.layer_norm(h)))


class T5Block(nn.Module):
    def __init__(self, cfg: MT5Config, is_decoder: bool, has_relative_attention_bias: bool):
        super().__init__()
        self.is_decoder = is_decoder
        layers: list[nn.Module] = [
            T5LayerSelfAttention(cfg, has_relative_attention_bias, bidirectional=not is_decoder)
        ]
        if is_decoder:
            layers.append(T5LayerCrossAttention(cfg))
        layers.append(T5LayerFF(cfg))
        self.layer = nn.ModuleList(layers)

    def forward(
        self,
        h: torch.Tensor,
        self_bias: torch.Tensor,
        enc: torch.Tensor | None = None,
        cross_bias: torch.Tensor | None = None,
    ) -> torch.Tensor:
        h = self.layer[0](h, self_bias)
        if self.is_decoder:
            h = self.layer[1](h, enc, cross_bias)
        return self.layer[-1](h)


def additive_mask(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """1 = attend, 0 = masked  ->  0 / finfo(dtype).min, as HF does."""
    return (1.0 - mask.to(dtype)) * torch.finfo(dtype).min


class T5Stack(nn.Module):
    """Encoder or decoder stack. The token embedding (`shared`) is owned by `MT5` and not
    registered here, so the state dict has no embed_tokens duplicates."""

    def __init__(self, cfg: MT5Config, is_decoder: bool):
        super().__init__()
        self.is_decoder = is_decoder
        n = cfg.num_decoder_layers if is_decoder else cfg.num_layers
        self.block = nn.ModuleList(
            [T5Block(cfg, is_decoder, has_relative_attention_bias=(i == 0)) for i in range(n)]
        )
        self.final_layer_norm = T5LayerNorm(cfg.d_model, cfg.layer_norm_epsilon)
        self.dropout = nn.Dropout(cfg.dropout_rate)

    def forward(
        self,
        embeds: torch.Tensor,
        mask: torch.Tensor,
        enc: torch.Tensor | None = None,
        enc_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """mask: [B, L] padding mask (1 = token). The decoder adds causality itself."""
        length = embeds.shape[1]
        m = mask[:, None, None, :].to(torch.float32)  # [B, 1, 1, L]
        if self.is_decoder:
            causal = torch.tril(torch.ones(length, length))[None, None]  # [1, 1, L, L]
            m = causal * m
        # Block 0 owns the bias table; its [1, h, L, L] output (mask added) is reused by all
        # layers, so the table's gradient accumulates from every layer.
        self_bias = self.block[0].layer[0].SelfAttention.compute_bias(length, length) + additive_mask(m, embeds.dtype)
        cross_bias = None
        if self.is_decoder:
            # Cross-attention has no position bias: only the encoder padding mask.
            cross_bias = additive_mask(enc_mask[:, None, None, :], embeds.dtype)

        h = self.dropout(embeds)
        for blk in self.block:
            h = blk(h, self_bias, enc, cross_bias)
        return self.dropout(self.final_layer_norm(h))


class MT5(nn.Module):
    """MT5ForConditionalGeneration: state_dict keys are transformers' names (modeling_t5.py)."""

    def __init__(self, cfg: MT5Config):
        super().__init__()
        self.config = cfg
        self.shared = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.encoder = T5Stack(cfg, is_decoder=False)
        self.decoder = T5Stack(cfg, is_decoder=True)
        self.lm_head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)

    def forward(
        self,
        input_ids: torch.Tensor,
        decoder_input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        decoder_attention_mask: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Returns float32 logits [B, U, V]. Masks default to all ones, as in HF; in particular
        the decoder is only causal unless `decoder_attention_mask` is given."""
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        if decoder_attention_mask is None:
            decoder_attention_mask = torch.ones_like(decoder_input_ids)
        enc = self.encoder(self.shared(input_ids.long()), attention_mask)
        dec = self.decoder(self.shared(decoder_input_ids.long()), decoder_attention_mask, enc, attention_mask)
        # Untied head: no d_model**-0.5 rescale (that only applies when tied).
        return self.lm_head(dec)


@torch.no_grad()
def init_weights(model: MT5) -> None:
    """HF T5PreTrainedModel._init_weights (transformers' modeling_t5.py)."""
    cfg = model.config
    factor = cfg.initializer_factor
    d, dkv, h = cfg.d_model, cfg.d_kv, cfg.num_heads
    for module in model.modules():
        if isinstance(module, T5LayerNorm):
            module.weight.fill_(factor * 1.0)
        elif isinstance(module, MT5):
            module.shared.weight.normal_(0.0, factor * 1.0)
            module.lm_head.weight.normal_(0.0, factor * 1.0)
        elif isinstance(module, T5DenseGatedActDense):
            module.wi_0.weight.normal_(0.0, factor * d**-0.5)
            module.wi_1.weight.normal_(0.0, factor * d**-0.5)
            module.wo.weight.normal_(0.0, factor * cfg.d_ff**-0.5)
        elif isinstance(module, T5Attention):
            module.q.weight.normal_(0.0, factor * (d * dkv) ** -0.5)
            module.k.weight.normal_(0.0, factor * d**-0.5)
            module.v.weight.normal_(0.0, factor * d**-0.5)
            module.o.weight.normal_(0.0, factor * (h * dkv) ** -0.5)
            if hasattr(module, "relative_attention_bias"):
                module.relative_attention_bias.weight.normal_(0.0, factor * d**-0.5)


def shift_right(labels: torch.Tensor, decoder_start_token_id: int = 0, pad_token_id: int = 0) -> torch.Tensor:
    """HF _shift_right: prepend decoder_start, drop the last label, -100 -> pad."""
    dec = torch.full_like(labels, decoder_start_token_id)
    dec[..., 1:] = labels[..., :-1]
    return dec.masked_fill(dec == -100, pad_token_id)


def mt5_loss(logits: torch.Tensor, labels: torch.Tensor, z_loss: float = 0.0) -> torch.Tensor:
    """Token-mean cross entropy over labels != -100, plus z_loss * logsumexp^2 averaged over the
    same tokens (T5X z-loss, but normalized like the HF loss)."""
    v = logits.shape[-1]
    flat_logits, flat_labels = at_least_fp32(logits.reshape(-1, v)), labels.reshape(-1).long()
    loss = F.cross_entropy(flat_logits, flat_labels, ignore_index=-100)
    if z_loss:
        keep = (flat_labels != -100).float()
        lse = torch.logsumexp(flat_logits, dim=-1)
        loss = loss + z_loss * (lse.pow(2) * keep).sum() / keep.sum()
    return loss


def example_nll(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """[B] summed negative log-likelihood of the non-ignored labels of each example."""
    labels = labels.long()
    nll = F.cross_entropy(at_least_fp32(logits).transpose(1, 2), labels, ignore_index=-100, reduction="none")
    return nll.sum(dim=1)


# --------------------------------------------------------------------------------------------
# Adafactor (HF transformers optimization.py)
# --------------------------------------------------------------------------------------------


class Adafactor(torch.optim.Optimizer):
    """The HF Adafactor formula (transformers' optimization.py). Factored second moment for
    ndim >= 2: row = mean over the last dim, col = mean over the second-to-last dim."""

    def __init__(
        self,
        params: Iterable[torch.Tensor],
        lr: float | None = None,
        eps: tuple[float, float] = (1e-30, 1e-3),
        clip_threshold: float = 1.0,
        decay_rate: float = -0.8,
        beta1: float | None = None,
        weight_decay: float = 0.0,
        scale_parameter: bool = True,
        relative_step: bool = True,
        warmup_init: bool = False,
    ):
        if lr is not None and relative_step:
            raise ValueError("cannot combine a manual lr with relative_step=True")
        if warmup_init and not relative_step:
            raise ValueError("warmup_init=True requires relative_step=True")
        defaults = dict(
            lr=lr, eps=eps, clip_threshold=clip_threshold, decay_rate=decay_rate, beta1=beta1,
            weight_decay=weight_decay, scale_parameter=scale_parameter,
            relative_step=relative_step, warmup_init=warmup_init,
        )
        super().__init__(params, defaults)

    @staticmethod
    def _rms(t: torch.Tensor) -> torch.Tensor:
        return t.norm(2) / (t.numel() ** 0.5)

    @staticmethod
    def _lr(group: dict, state: dict) -> float:
        lr = group["lr"]
        if group["relative_step"]:
            min_step = 1e-6 * state["step"] if group["warmup_init"] else 1e-2
            lr = min(min_step, 1.0 / math.sqrt(state["step"]))
        if group["scale_parameter"]:
            lr *= max(group["eps"][1], float(state["RMS"]))
        return lr

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.dtype not in (torch.float32, torch.float64):
                    raise TypeError("this Adafactor keeps no fp32 master copy; use fp32/fp64 params")
                grad = p.grad
                factored = grad.dim() >= 2
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    if group["beta1"] is not None:
                        state["exp_avg"] = torch.zeros_like(grad)
                    if factored:
                        state["exp_avg_sq_row"] = grad.new_zeros(grad.shape[:-1])
                        state["exp_avg_sq_col"] = grad.new_zeros(grad.shape[:-2] + grad.shape[-1:])
                    else:
                        state["exp_avg_sq"] = torch.zeros_like(grad)

                state["step"] += 1
                state["RMS"] = self._rms(p)  # of the parameter before this update
                lr = self._lr(group, state)
                beta2t = 1.0 - math.pow(state["step"], group["decay_rate"])
                update = grad**2 + group["eps"][0]
                if factored:
                    row, col = state["exp_avg_sq_row"], state["exp_avg_sq_col"]
                    row.mul_(beta2t).add_(update.mean(dim=-1), alpha=1.0 - beta2t)
                    col.mul_(beta2t).add_(update.mean(dim=-2), alpha=1.0 - beta2t)
                    r_factor = (row / row.mean(dim=-1, keepdim=True)).rsqrt_().unsqueeze(-1)
                    c_factor = col.unsqueeze(-2).rsqrt()
                    update = torch.mul(r_factor, c_factor).mul_(grad)
                else:
                    v = state["exp_avg_sq"]
                    v.mul_(beta2t).add_(update, alpha=1.0 - beta2t)
                    update = v.rsqrt().mul_(grad)
                update.div_((self._rms(update) / group["clip_threshold"]).clamp_(min=1.0))
                update.mul_(lr)
                if group["beta1"] is not None:
                    m = state["exp_avg"]
                    m.mul_(group["beta1"]).add_(update, alpha=1.0 - group["beta1"])
                    update = m
                if group["weight_decay"] != 0:
                    p.add_(p, alpha=-group["weight_decay"] * lr)
                p.add_(-update)
        return loss


# --------------------------------------------------------------------------------------------
# HF model directories
# --------------------------------------------------------------------------------------------

SINGLE_FILE = "model.safetensors"
INDEX_FILE = "model.safetensors.index.json"
TIED_EMBEDDING_COPIES = ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")
IGNORED_ON_LOAD = ("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight",)


def shard_file_name(i: int, n: int) -> str:
    return f"model-{i + 1:05d}-of-{n:05d}.safetensors"


def save_hf_model(
    directory: str,
    config: Mapping[str, object],
    tensors: Mapping[str, torch.Tensor],
    num_shards: int = 1,
) -> None:
    """Write config.json and the tensors (in their own dtypes), as one model.safetensors or as
    `num_shards` shards (state-dict order, split by bytes) plus model.safetensors.index.json."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    metadata = {"format": "pt"}
    if num_shards == 1:
        write_safetensors(os.path.join(directory, SINGLE_FILE), tensors, metadata)
        return

    names = list(tensors)
    sizes = [len(tensor_bytes(tensors[n])[1]) for n in names]
    total = sum(sizes)
    # Consecutive state-dict names; a tensor goes to the shard its starting byte falls in.
    shards: list[list[str]] = [[] for _ in range(num_shards)]
    done = 0
    for name, size in zip(names, sizes):
        shards[min(num_shards - 1, done * num_shards // total)].append(name)
        done += size
    if not all(shards):
        raise ValueError(f"cannot split these tensors into {num_shards} non-empty shards")
    weight_map = {}
    for s, shard in enumerate(shards):
        file = shard_file_name(s, num_shards)
        write_safetensors(os.path.join(directory, file), {n: tensors[n] for n in shard}, metadata)
        weight_map.update({n: file for n in shard})
    with open(os.path.join(directory, INDEX_FILE), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        f.write("\n")


@dataclass
class HFCheckpoint:
    config: dict
    tensors: dict[str, TensorRecord]
    files: list[SafetensorsFile] = field(default_factory=list)
    index: dict | None = None


def read_hf_checkpoint(directory: str) -> HFCheckpoint:
    """Read config.json and all tensors of a single-file or sharded HF directory."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    index_path = os.path.join(directory, INDEX_FILE)
    if not os.path.exists(index_path):
        st = read_safetensors(os.path.join(directory, SINGLE_FILE))
        return HFCheckpoint(config, dict(st.tensors), [st])

    with open(index_path) as f:
        index = json.load(f)
    weight_map: dict[str, str] = index["weight_map"]
    files = [read_safetensors(os.path.join(directory, fn)) for fn in sorted(set(weight_map.values()))]
    tensors: dict[str, TensorRecord] = {}
    for st in files:
        fn = os.path.basename(st.path)
        for name, rec in st.tensors.items():
            if weight_map.get(name) != fn:
                raise SafetensorsError(f"{st.path}: tensor {name} is not mapped to {fn} in the index")
            if name in tensors:
                raise SafetensorsError(f"{name} appears in more than one shard")
            tensors[name] = rec
    missing = set(weight_map) - set(tensors)
    if missing:
        raise SafetensorsError(f"index names tensors missing from the shards: {sorted(missing)[:5]}")
    total = index.get("metadata", {}).get("total_size")
    actual = sum(len(r.data) for r in tensors.values())
    if total is not None and total != actual:
        raise SafetensorsError(f"index total_size {total} != {actual} bytes of tensors")
    return HFCheckpoint(config, tensors, files, index)


def load_hf_model(directory: str) -> MT5:
    """Build an MT5 from an HF directory, in eval mode like HF from_pretrained. Weights are
    widened to float32. transformers' loader rules: embed_tokens copies are optional (must
    equal shared), the cross-attention relative bias of decoder block 0 is ignored."""
    ckpt = read_hf_checkpoint(directory)
    model = MT5(MT5Config.from_hf_dict(ckpt.config))
    state = {name: rec.torch() for name, rec in ckpt.tensors.items() if name not in IGNORED_ON_LOAD}
    for name in TIED_EMBEDDING_COPIES:
        if name in state and not torch.equal(state.pop(name), state["shared.weight"]):
            raise ValueError(f"{name} differs from shared.weight; this model ties them")
    model.load_state_dict(state, strict=True)
    return model.eval()


def export_state(model: MT5, dtype: torch.dtype = torch.float32) -> dict[str, torch.Tensor]:
    """The HF-named state dict converted to `dtype` (BF16 by our own rounding)."""
    out = {}
    for name, t in model.state_dict().items():
        t = t.detach().clone()
        out[name] = to_bfloat16(t) if dtype == torch.bfloat16 else t.to(dtype)
    return out


# --------------------------------------------------------------------------------------------
# Bucket self-check (T5Attention._relative_position_bucket in float32, 32 buckets, max_distance 128)
# --------------------------------------------------------------------------------------------

# (lowest |rel|, highest |rel| or None for "and beyond", bucket of the range's first value,
#  True when the bucket increases with |rel| inside the range (the exact region))
_ENCODER_NEGATIVE = [(0, 7, 0, True), (8, 11, 8, False), (12, 15, 9, False), (16, 22, 10, False),
                     (23, 31, 11, False), (32, 45, 12, False), (46, 63, 13, False),
                     (64, 90, 14, False), (91, None, 15, False)]
_ENCODER_POSITIVE = [(1, 7, 17, True), (8, 11, 24, False), (12, 15, 25, False), (16, 22, 26, False),
                     (23, 31, 27, False), (32, 45, 28, False), (46, 63, 29, False),
                     (64, 90, 30, False), (91, None, 31, False)]
_DECODER_NEGATIVE = [(0, 15, 0, True), (16, 18, 16, False), (19, 20, 17, False), (21, 23, 18, False),
                     (24, 26, 19, False), (27, 30, 20, False), (31, 34, 21, False),
                     (35, 39, 22, False), (40, 45, 23, False), (46, 51, 24, False),
                     (52, 58, 25, False), (59, 66, 26, False), (67, 76, 27, False),
                     (77, 86, 28, False), (87, 98, 29, False), (99, 112, 30, False),
                     (113, None, 31, False)]
BUCKET_CHECK_RANGE = 1000  # rel in [-1000, 1000]


def _table_buckets(rows: list, sign: int) -> dict[int, int]:
    out = {}
    for lo, hi, bucket, exact in rows:
        for a in range(lo, (hi if hi is not None else BUCKET_CHECK_RANGE) + 1):
            out[sign * a] = bucket + (a - lo if exact else 0)
    return out


def check_bucket_tables() -> list[str]:
    """Compare `relative_position_bucket` with the tables; returns mismatch descriptions."""
    rel = torch.arange(-BUCKET_CHECK_RANGE, BUCKET_CHECK_RANGE + 1, dtype=torch.long)
    expected = {
        "encoder": {**_table_buckets(_ENCODER_NEGATIVE, -1), **_table_buckets(_ENCODER_POSITIVE, 1)},
        "decoder": {**_table_buckets(_DECODER_NEGATIVE, -1), **{a: 0 for a in range(1, BUCKET_CHECK_RANGE + 1)}},
    }
    problems = []
    for stack, bidirectional in (("encoder", True), ("decoder", False)):
        got = relative_position_bucket(rel, bidirectional, 32, 128).tolist()
        for r, g in zip(rel.tolist(), got):
            if expected[stack][r] != g:
                problems.append(f"{stack}: rel {r}: bucket {g}, table says {expected[stack][r]}")
    return problems


# --------------------------------------------------------------------------------------------
# Golden generation
# --------------------------------------------------------------------------------------------

OPTIMIZER_STEPS = 10
Z_LOSS = 1e-4
ADAFACTOR = dict(lr=1e-3, eps=(1e-30, 1e-3), clip_threshold=1.0, decay_rate=-0.8, beta1=None,
                 weight_decay=0.0, scale_parameter=False, relative_step=False, warmup_init=False)
ADAFACTOR_SCALED = dict(ADAFACTOR, lr=1e-2, beta1=0.9, weight_decay=0.01, scale_parameter=True)
ADAMW = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
ADAMW_CLIP_GRAD_NORM = 1.0

# Main batch: B=3, T=11, U=7. Example 1 of the inputs is padded after its eos; example 2 of the
# labels is padded with -100 after its eos.
INPUT_LENGTHS = (11, 7, 11)
LABEL_LENGTHS = (7, 7, 5)
INPUT_LEN, LABEL_LEN = 11, 7
# Long case: distances up to 149 (encoder) and 139 (decoder) reach every bucket (>= 128).
LONG_INPUT_LEN, LONG_LABEL_LEN = 150, 140


def padded_ids(
    gen: torch.Generator, vocab: int, lengths: Iterable[int], width: int, eos: int, pad: int
) -> torch.Tensor:
    """Random ids in [2, vocab) with eos at position length-1 and `pad` after it."""
    rows = []
    for n in lengths:
        row = torch.full((width,), pad, dtype=torch.long)
        row[: n - 1] = torch.randint(2, vocab, (n - 1,), generator=gen)
        row[n - 1] = eos
        rows.append(row)
    return torch.stack(rows)


def run_optimizer(
    model: MT5,
    init_state: Mapping[str, torch.Tensor],
    batch: Mapping[str, torch.Tensor],
    make_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer],
    clip_grad_norm: float | None = None,
) -> torch.Tensor:
    """Restart from `init_state`; return the loss before each of OPTIMIZER_STEPS updates."""
    model.load_state_dict(init_state)
    params = list(model.parameters())
    opt = make_optimizer(params)
    losses = []
    for _ in range(OPTIMIZER_STEPS):
        opt.zero_grad(set_to_none=True)
        loss = mt5_loss(model(batch["input_ids"], batch["decoder_input_ids"], batch["attention_mask"]), batch["labels"])
        losses.append(loss.detach().clone())
        loss.backward()
        if clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(params, clip_grad_norm)
        opt.step()
    return torch.stack(losses)


def settings_json(seed: int) -> str:
    def adafactor(d: dict) -> dict:
        return {**d, "eps": list(d["eps"])}

    return json.dumps({
        "seed": seed,
        "steps": OPTIMIZER_STEPS,
        "z_loss": Z_LOSS,
        "dropout": 0.0,
        "loss": "token mean of CE over labels != -100 (+ z_loss * logsumexp^2, same mean)",
        "adafactor": adafactor(ADAFACTOR),
        "adafactor_scaled": adafactor(ADAFACTOR_SCALED),
        "adamw": {**ADAMW, "betas": list(ADAMW["betas"]), "clip_grad_norm": ADAMW_CLIP_GRAD_NORM,
                  "note": "torch.optim.AdamW (p *= 1 - lr*wd first; denom = sqrt(v)/sqrt(1-b2^t) + eps) "
                          "after torch clip_grad_norm_ (coef = max_norm / (total_norm + 1e-6), capped at 1)"},
    }, sort_keys=True, separators=(",", ":"))


def generate(config_path: str, out: str, seed: int) -> None:
    problems = check_bucket_tables()
    if problems:
        sys.exit("relative position buckets disagree with the hand-computed T5 bucket tables:\n  " + "\n  ".join(problems[:20]))

    with open(config_path) as f:
        hf_config = json.load(f)
    cfg = MT5Config.from_hf_dict(hf_config)

    torch.manual_seed(seed)
    model = MT5(cfg)
    init_weights(model)
    model.eval()  # the golden run has dropout off
    init_state = {k: v.detach().clone() for k, v in model.state_dict().items()}

    # Model directories.
    os.makedirs(out, exist_ok=True)
    model_dir = os.path.join(out, "model")
    save_hf_model(model_dir, hf_config, export_state(model))
    shutil.copyfile(config_path, os.path.join(model_dir, "config.json"))  # verbatim copy
    save_hf_model(os.path.join(out, "model_sharded"), {**hf_config, "torch_dtype": "bfloat16"},
                  export_state(model, torch.bfloat16), num_shards=2)
    save_hf_model(os.path.join(out, "model_f16"), {**hf_config, "torch_dtype": "float16"},
                  export_state(model, torch.float16))
    extras = export_state(model)
    extras.update({n: extras["shared.weight"].clone() for n in TIED_EMBEDDING_COPIES})
    extras[IGNORED_ON_LOAD[0]] = torch.randn(cfg.relative_attention_num_buckets, cfg.num_heads)
    save_hf_model(os.path.join(out, "model_hf_extras"), hf_config, extras)

    # The written F32 directory must reload bit-exactly; the BF16 one to our rounding.
    reloaded = load_hf_model(model_dir).state_dict()
    bf16_model = load_hf_model(os.path.join(out, "model_sharded"))
    for name, t in init_state.items():
        assert torch.equal(reloaded[name], t), f"F32 reload changed {name}"
        assert torch.equal(bf16_model.state_dict()[name], to_bfloat16(t).float()), f"BF16 reload of {name}"

    # Main batch.
    gen = torch.Generator().manual_seed(seed + 1)
    input_ids = padded_ids(gen, cfg.vocab_size, INPUT_LENGTHS, INPUT_LEN, cfg.eos_token_id, cfg.pad_token_id)
    labels = padded_ids(gen, cfg.vocab_size, LABEL_LENGTHS, LABEL_LEN, cfg.eos_token_id, -100)
    batch = {
        "input_ids": input_ids,
        "attention_mask": (input_ids != cfg.pad_token_id).long(),
        "labels": labels,
        "decoder_input_ids": shift_right(labels, cfg.decoder_start_token_id, cfg.pad_token_id),
    }
    logits = model(batch["input_ids"], batch["decoder_input_ids"], batch["attention_mask"])
    loss = mt5_loss(logits, labels)
    model.zero_grad(set_to_none=True)
    loss.backward()
    grads = {f"grad.{n}": p.grad.detach().clone() for n, p in model.named_parameters()}
    with torch.no_grad():
        loss_z = mt5_loss(logits, labels, Z_LOSS)
        nll = example_nll(logits, labels)
        bf16_logits = bf16_model(batch["input_ids"], batch["decoder_input_ids"], batch["attention_mask"])

    losses = {
        "adafactor_losses": run_optimizer(model, init_state, batch, lambda p: Adafactor(p, **ADAFACTOR)),
        "adafactor_scaled_losses": run_optimizer(model, init_state, batch, lambda p: Adafactor(p, **ADAFACTOR_SCALED)),
        "adamw_losses": run_optimizer(model, init_state, batch, lambda p: torch.optim.AdamW(p, **ADAMW),
                                      clip_grad_norm=ADAMW_CLIP_GRAD_NORM),
    }
    assert losses["adafactor_losses"][0] == loss, "first optimizer loss must equal `loss`"

    # Long case, from the initial weights again.
    model.load_state_dict(init_state)
    long_input_ids = padded_ids(gen, cfg.vocab_size, [LONG_INPUT_LEN], LONG_INPUT_LEN, cfg.eos_token_id, cfg.pad_token_id)
    long_labels = padded_ids(gen, cfg.vocab_size, [LONG_LABEL_LEN], LONG_LABEL_LEN, cfg.eos_token_id, -100)
    long_decoder_input_ids = shift_right(long_labels, cfg.decoder_start_token_id, cfg.pad_token_id)
    with torch.no_grad():
        long_logits = model(long_input_ids, long_decoder_input_ids)
        long_loss = mt5_loss(long_logits, long_labels)

    def i32(t: torch.Tensor) -> torch.Tensor:
        return t.to(torch.int32)

    def f32(t: torch.Tensor) -> torch.Tensor:
        return t.detach().to(torch.float32).reshape(t.shape or (1,))  # scalars as [1]

    expected = {
        **{k: i32(v) for k, v in batch.items()},
        "logits": f32(logits),
        "loss": f32(loss),
        "loss_z": f32(loss_z),
        "example_nll": f32(nll),
        **{k: f32(v) for k, v in grads.items()},
        **{k: f32(v) for k, v in losses.items()},
        "bf16_logits": f32(bf16_logits),
        "long_input_ids": i32(long_input_ids),
        "long_labels": i32(long_labels),
        "long_decoder_input_ids": i32(long_decoder_input_ids),
        "long_logits": f32(long_logits),
        "long_loss": f32(long_loss),
    }
    write_safetensors(os.path.join(out, "expected.safetensors"), expected,
                      {"settings": settings_json(seed), "format": "pt"})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="HF MT5 config.json")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args(argv)
    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    t0 = time.perf_counter()
    generate(args.config, args.out, args.seed)
    print(f"wrote {args.out} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
