#!/usr/bin/python3
"""Self-tests of the PyTorch mT5 reference (mt5_reference.py) and check_safetensors.py.

  /usr/bin/python3 tests/golden/test_mt5_reference.py [-v]

Each check restates a fact of the public definitions mt5_reference.py follows (transformers'
modeling_t5.py, configuration_mt5.py and Adafactor in optimization.py; safetensors/src/tensor.rs)
in a different way from the module (hand-built bytes, float64 numpy, behavioural invariants), so
that the golden files are trusted for more than "autograd ran".
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import struct
import sys
import tempfile
import unittest

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_safetensors  # noqa: E402
import mt5_reference as ref  # noqa: E402
from tolerance import assert_within_rounding  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TINY_CONFIG = os.path.join(HERE, "test-tiny.config.json")


def tiny_config(**overrides: object) -> dict:
    with open(TINY_CONFIG) as f:
        return {**json.load(f), **overrides}


def make_model(seed: int = 0, dtype: torch.dtype = torch.float32, **overrides: object) -> ref.MT5:
    torch.manual_seed(seed)
    model = ref.MT5(ref.MT5Config.from_hf_dict(tiny_config(**overrides)))
    ref.init_weights(model)
    return model.to(dtype).eval()


def expected_shapes(c: dict) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes transcribed from transformers' MT5ForConditionalGeneration."""
    v, d, inner, ff, h = c["vocab_size"], c["d_model"], c["num_heads"] * c["d_kv"], c["d_ff"], c["num_heads"]
    out = {"shared.weight": (v, d), "lm_head.weight": (v, d)}
    for stack, n in (("encoder", c["num_layers"]), ("decoder", c["num_decoder_layers"])):
        out[f"{stack}.final_layer_norm.weight"] = (d,)
        out[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"] = (32, h)
        for i in range(n):
            p = f"{stack}.block.{i}.layer"
            attns = [("0", "SelfAttention")] + ([("1", "EncDecAttention")] if stack == "decoder" else [])
            for idx, kind in attns:
                for w in "qkv":
                    out[f"{p}.{idx}.{kind}.{w}.weight"] = (inner, d)
                out[f"{p}.{idx}.{kind}.o.weight"] = (d, inner)
                out[f"{p}.{idx}.layer_norm.weight"] = (d,)
            ffi = "2" if stack == "decoder" else "1"
            out[f"{p}.{ffi}.DenseReluDense.wi_0.weight"] = (ff, d)
            out[f"{p}.{ffi}.DenseReluDense.wi_1.weight"] = (ff, d)
            out[f"{p}.{ffi}.DenseReluDense.wo.weight"] = (d, ff)
            out[f"{p}.{ffi}.layer_norm.weight"] = (d,)
    return out


class BucketTest(unittest.TestCase):
    def test_tables(self) -> None:
        self.assertEqual(ref.check_bucket_tables(), [])

    def test_long_golden_case_reaches_every_bucket(self) -> None:
        for bidirectional, q, k in ((True, ref.LONG_INPUT_LEN, ref.LONG_INPUT_LEN), (False, ref.LONG_LABEL_LEN, ref.LONG_LABEL_LEN)):
            rel = torch.arange(k)[None, :] - torch.arange(q)[:, None]
            buckets = ref.relative_position_bucket(rel, bidirectional, 32, 128)
            # Causal attention only looks at rel <= 0; bucket 16 of the encoder would be rel = +0.
            considered = buckets if bidirectional else buckets[rel <= 0]
            used = set(range(32)) - ({16} if bidirectional else set())
            self.assertEqual(set(considered.unique().tolist()), used)


class SafetensorsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "t.safetensors")

    def tearDown(self) -> None:
        self.tmp.cleanup()

    def test_exact_bytes_of_a_small_file(self) -> None:
        ref.write_safetensors(
            self.path,
            {"b": torch.tensor([1.0, -2.0], dtype=torch.float16), "a": torch.tensor([[7]], dtype=torch.int64)},
            {"k": "v"},
        )
        header = (
            '{"__metadata__":{"k":"v"},"a":{"dtype":"I64","shape":[1,1],"data_offsets":[0,8]},'
            '"b":{"dtype":"F16","shape":[2],"data_offsets":[8,12]}}'
        ).encode()
        header += b" " * (-len(header) % 8)
        want = struct.pack("<Q", len(header)) + header + struct.pack("<q", 7) + struct.pack("<2e", 1.0, -2.0)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), want)

    def test_round_trip_is_bit_exact(self) -> None:
        g = torch.Generator().manual_seed(0)
        tensors = {
            "f32": torch.randn(3, 5, generator=g),
            "f16": torch.randn(7, generator=g).half(),
            "bf16": torch.randn(2, 3, generator=g).bfloat16(),
            "i32": torch.randint(-(2**31), 2**31 - 1, (4,), generator=g, dtype=torch.int64).int(),
            "i64": torch.tensor([-(2**62), 2**62 + 3]),
            "scalar": torch.tensor(3.5),
            "empty": torch.zeros(0, 4),
            "special": torch.tensor([float("inf"), -0.0, float("nan"), 1e-45]),
        }
        ref.write_safetensors(self.path, tensors, {"format": "pt"})
        st = ref.read_safetensors(self.path)
        self.assertEqual(st.metadata, {"format": "pt"})
        self.assertEqual(st.header_len % 8, 0)
        self.assertEqual(check_safetensors.writer_rule_problems(st), [])
        self.assertEqual(list(st.tensors), ["i64", "empty", "f32", "i32", "scalar", "special", "bf16", "f16"])
        for name, t in tensors.items():
            rec = st.tensors[name]
            self.assertEqual(rec.shape, tuple(t.shape), name)
            self.assertEqual(rec.data, ref.tensor_bytes(t)[1], name)
        self.assertTrue(torch.equal(st.tensors["bf16"].torch(), tensors["bf16"].float()))
        self.assertTrue(torch.equal(st.tensors["i64"].torch(), tensors["i64"]))

    def _corrupt(self, header: dict | bytes, data: bytes, header_len: int | None = None) -> None:
        raw = header if isinstance(header, bytes) else json.dumps(header).encode()
        with open(self.path, "wb") as f:
            f.write(struct.pack("<Q", len(raw) if header_len is None else header_len) + raw + data)

    def test_reader_rejects_malformed_files(self) -> None:
        ok = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
        self._corrupt(ok, bytes(8))
        ref.read_safetensors(self.path)  # the control case is accepted
        cases = {
            "header bound": (ok, bytes(8), ref.MAX_HEADER_LEN + 1),
            "header past end": (ok, bytes(8), 10_000),
            "trailing bytes": (ok, bytes(12), None),
            "short data": (ok, bytes(4), None),
            "gap": ({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8), None),
            "overlap": ({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                         "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, bytes(8), None),
            "shape/offset mismatch": ({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, bytes(8), None),
            "dtype": ({"a": {"dtype": "F8", "shape": [8], "data_offsets": [0, 8]}}, bytes(8), None),
            "metadata type": ({**ok, "__metadata__": {"k": 1}}, bytes(8), None),
            "not json": (b"{nope", b"", None),
        }
        for what, (header, data, n) in cases.items():
            self._corrupt(header, data, n)
            with self.assertRaises(ref.SafetensorsError, msg=what):
                ref.read_safetensors(self.path)

    def test_bf16_rounding_matches_torch(self) -> None:
        g = torch.Generator().manual_seed(1)
        special = torch.tensor([0.0, -0.0, float("inf"), -float("inf"), 3.4028235e38, 1e-40, -1e-45,
                                1.00390625, 1.01171875, 1.0 + 2**-8 + 2**-20])  # ties to even and not
        x = torch.cat([torch.randn(10000, generator=g) * 100, special])
        want = x.bfloat16().view(torch.int16).numpy().view(np.uint16)
        np.testing.assert_array_equal(ref.float32_to_bf16_bits(x.numpy()), want)
        np.testing.assert_array_equal(ref.bf16_bits_to_float32(want), x.bfloat16().float().numpy())
        self.assertTrue(np.isnan(ref.bf16_bits_to_float32(ref.float32_to_bf16_bits(np.array([np.nan], np.float32))))[0])

    def test_sharded_bf16_directory_reloads_rounded_values(self) -> None:
        model = make_model()
        ref.save_hf_model(self.tmp.name, tiny_config(torch_dtype="bfloat16"), ref.export_state(model, torch.bfloat16), num_shards=2)
        with open(os.path.join(self.tmp.name, ref.INDEX_FILE)) as f:
            index = json.load(f)
        self.assertEqual(sorted(set(index["weight_map"].values())), [ref.shard_file_name(0, 2), ref.shard_file_name(1, 2)])
        self.assertEqual(index["metadata"]["total_size"], 2 * sum(p.numel() for p in model.parameters()))
        reloaded = ref.load_hf_model(self.tmp.name).state_dict()
        for name, t in model.state_dict().items():
            self.assertTrue(torch.equal(reloaded[name], t.bfloat16().float()), name)

    def test_loader_rules(self) -> None:
        model = make_model()
        state = ref.export_state(model)
        state["encoder.embed_tokens.weight"] = state["shared.weight"].clone()
        state[ref.IGNORED_ON_LOAD[0]] = torch.ones(32, 3)
        ref.save_hf_model(self.tmp.name, tiny_config(), state)
        reloaded = ref.load_hf_model(self.tmp.name)
        self.assertTrue(all(torch.equal(a, b) for a, b in zip(reloaded.state_dict().values(), model.state_dict().values())))
        state["encoder.embed_tokens.weight"][0, 0] += 1
        ref.save_hf_model(self.tmp.name, tiny_config(), state)
        with self.assertRaises(ValueError):
            ref.load_hf_model(self.tmp.name)


class ModelTest(unittest.TestCase):
    def test_names_and_shapes_follow_the_hf_table(self) -> None:
        for overrides in ({}, {"d_model": 40, "num_heads": 2, "d_kv": 8, "num_layers": 3, "num_decoder_layers": 1}):
            model = make_model(**overrides)
            got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
            self.assertEqual(got, expected_shapes(tiny_config(**overrides)))

    def test_parameter_counts_of_section_1(self) -> None:
        sizes = {"small": (512, 1024, 6, 8, 300_176_768), "base": (768, 2048, 12, 12, 582_401_280),
                 "large": (1024, 2816, 16, 24, 1_229_581_312), "xl": (2048, 5120, 32, 24, 3_742_619_648),
                 "xxl": (4096, 10240, 64, 24, 12_921_057_280)}
        for size, (d, ff, h, n, total) in sizes.items():
            c = dict(vocab_size=250112, d_model=d, d_ff=ff, num_heads=h, d_kv=64, num_layers=n, num_decoder_layers=n)
            self.assertEqual(sum(math.prod(s) for s in expected_shapes(c).values()), total, size)

    def test_init_standard_deviations(self) -> None:
        c = tiny_config(vocab_size=4096, d_model=128, d_ff=512, num_heads=4)
        torch.manual_seed(0)
        model = ref.MT5(ref.MT5Config.from_hf_dict(c))
        ref.init_weights(model)
        d, dkv, h, ff = 128, 64, 4, 512
        want = {"shared": 1.0, "lm_head": 1.0, ".q.": (d * dkv) ** -0.5, ".k.": d**-0.5, ".v.": d**-0.5,
                ".o.": (h * dkv) ** -0.5, "relative_attention_bias": d**-0.5, "wi_0": d**-0.5, "wi_1": d**-0.5, "wo": ff**-0.5}
        for name, p in model.named_parameters():
            if "layer_norm" in name:
                self.assertTrue(torch.equal(p, torch.ones_like(p)), name)
                continue
            std = next(s for key, s in want.items() if key in name)
            self.assertAlmostEqual(p.std().item() / std, 1.0, delta=0.15, msg=name)
            self.assertLess(abs(p.mean().item()), 4 * std / p.numel() ** 0.5, name)

    def test_shift_right(self) -> None:
        labels = torch.tensor([[5, 6, 1, -100], [7, 1, -100, -100]])
        self.assertEqual(ref.shift_right(labels).tolist(), [[0, 5, 6, 1], [0, 7, 1, 0]])

    def test_loss_matches_float64_cross_entropy(self) -> None:
        g = torch.Generator().manual_seed(2)
        logits = torch.randn(3, 5, 17, generator=g) * 6
        labels = torch.randint(0, 17, (3, 5), generator=g)
        labels[1, 3:] = -100
        x = logits.double().numpy()
        lse = np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)
        keep = labels.numpy() != -100
        target = np.take_along_axis(x, np.where(keep, labels.numpy(), 0)[..., None], -1)[..., 0]
        nll = (lse - target) * keep
        # f32 against float64: a few roundings of numbers as large as the logits per term.
        magnitude = float(np.abs(x).max())
        assert_within_rounding(ref.mt5_loss(logits, labels).item(), nll.sum() / keep.sum(), torch.float32,
                               ulps=32, scale=magnitude, what="loss")
        z = (nll + 1e-4 * lse**2 * keep).sum() / keep.sum()
        assert_within_rounding(ref.mt5_loss(logits, labels, 1e-4).item(), z, torch.float32, ulps=32,
                               scale=magnitude * (1 + 1e-4 * magnitude), what="loss with z-loss")
        assert_within_rounding(ref.example_nll(logits, labels), nll.sum(1), torch.float32, ulps=32,
                               scale=magnitude * labels.shape[1], what="per-example nll")

    def test_rms_norm_and_gelu_formulas(self) -> None:
        x = torch.randn(4, 64, dtype=torch.float64)
        norm = ref.T5LayerNorm(64, 1e-6).double()
        with torch.no_grad():
            norm.weight.uniform_()
        want = norm.weight * x / torch.sqrt((x * x).sum(-1, keepdim=True) / 64 + 1e-6)
        self.assertTrue(torch.allclose(norm(x), want, rtol=1e-12))
        t = torch.linspace(-6, 6, 101, dtype=torch.float64)
        self.assertTrue(torch.allclose(ref.gelu_new(t), torch.nn.functional.gelu(t, approximate="tanh"), rtol=1e-12, atol=1e-15))

    def test_encoder_padding_is_masked(self) -> None:
        model = make_model()
        ids = torch.tensor([[5, 9, 33, 1, 0, 0, 0], [8, 8, 8, 8, 8, 8, 1]])
        dec = torch.tensor([[0, 4, 7], [0, 2, 3]])
        mask = (ids != 0).long()
        with torch.no_grad():
            padded = model(ids, dec, mask)
            alone = model(ids[:1, :4], dec[:1])
            noisy = model(torch.where(mask.bool(), ids, torch.full_like(ids, 77)), dec, mask)
        # Padding changes the GEMMs' shapes, hence their rounding: equal within f32 rounding of
        # the logits' size (an unmasked pad would move them by O(1)).
        assert_within_rounding(padded[0], alone[0], torch.float32, ulps=64, what="padded logits")
        self.assertTrue(torch.equal(padded, noisy))

    def test_decoder_is_causal(self) -> None:
        model = make_model()
        ids = torch.tensor([[5, 9, 33, 1]])
        dec = torch.tensor([[0, 4, 7, 9, 11]])
        with torch.no_grad():
            a = model(ids, dec)
            b = model(ids, torch.tensor([[0, 4, 7, 200, 300]]))
        self.assertTrue(torch.equal(a[:, :3], b[:, :3]))
        self.assertFalse(torch.equal(a[:, 3:], b[:, 3:]))

    def test_position_bias_is_shared_and_learns_from_every_layer(self) -> None:
        model = make_model()
        names = [n for n, _ in model.named_parameters() if "relative_attention_bias" in n]
        self.assertEqual(names, ["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                 "decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"])
        # Zeroing block 1's attention output projection leaves block 0's contribution only, so
        # a gradient different from the full one shows block 1 also feeds the shared table.
        ids, labels = torch.tensor([[5, 9, 33, 1]]), torch.tensor([[4, 7, 1]])
        grads = []
        for zero_block1 in (False, True):
            m = make_model()
            if zero_block1:
                with torch.no_grad():
                    m.encoder.block[1].layer[0].SelfAttention.o.weight.zero_()
            ref.mt5_loss(m(ids, ref.shift_right(labels)), labels).backward()
            grads.append(m.encoder.block[0].layer[0].SelfAttention.relative_attention_bias.weight.grad)
        self.assertFalse(torch.allclose(grads[0], grads[1]))

    def test_gradients_match_finite_differences(self) -> None:
        model = make_model(dtype=torch.float64, vocab_size=23, d_model=8, d_kv=4, d_ff=6, num_heads=2)
        ids = torch.tensor([[5, 9, 3, 1, 0], [4, 4, 4, 4, 1]])
        labels = torch.tensor([[4, 7, 1], [3, 1, -100]])
        mask, dec = (ids != 0).long(), ref.shift_right(labels)

        def loss() -> torch.Tensor:
            return ref.mt5_loss(model(ids, dec, mask), labels, z_loss=1e-2)

        loss().backward()
        g = torch.Generator().manual_seed(3)
        for name, p in model.named_parameters():
            for _ in range(2):
                i = int(torch.randint(0, p.numel(), (1,), generator=g))
                flat = p.data.view(-1)
                orig = flat[i].item()
                with torch.no_grad():
                    flat[i] = orig + 1e-6
                    up = loss().item()
                    flat[i] = orig - 1e-6
                    down = loss().item()
                    flat[i] = orig
                fd = (up - down) / 2e-6
                self.assertAlmostEqual(p.grad.view(-1)[i].item(), fd, delta=1e-6 + 1e-5 * abs(fd), msg=name)


def numpy_adafactor(p: np.ndarray, grads: list[np.ndarray], lr: float | None, beta1: float | None,
                    weight_decay: float, scale_parameter: bool, relative_step: bool) -> np.ndarray:
    """Float64 restatement of transformers' Adafactor, with the factored second moment written
    as the rank-1 matrix outer(R, C) / mean(R)."""
    eps1, eps2, m = 1e-30, 1e-3, np.zeros_like(p)
    r = c = v = None
    for step, g in enumerate(grads, start=1):
        rms = np.sqrt(np.mean(p * p))
        lr_t = min(1e-2, 1 / np.sqrt(step)) if relative_step else lr
        if scale_parameter:
            lr_t *= max(eps2, rms)
        b2 = 1 - step**-0.8
        u = g * g + eps1
        if p.ndim >= 2:
            r = (1 - b2) * u.mean(-1) + (b2 * r if r is not None else 0)
            c = (1 - b2) * u.mean(-2) + (b2 * c if c is not None else 0)
            upd = g / np.sqrt(np.outer(r, c) / r.mean())
        else:
            v = (1 - b2) * u + (b2 * v if v is not None else 0)
            upd = g / np.sqrt(v)
        upd = upd / max(1.0, np.sqrt(np.mean(upd * upd)))  # clip_threshold 1
        upd = upd * lr_t
        if beta1 is not None:
            m = beta1 * m + (1 - beta1) * upd
            upd = m
        p = p - weight_decay * lr_t * p - upd
    return p


def numpy_forward(w: dict[str, np.ndarray], c: dict, ids: np.ndarray, dec: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Float64 numpy restatement of modeling_t5.py's forward pass: per-example, per-head loops,
    buckets looked up in the transcribed tables, -inf masking instead of finfo.min."""
    h, dkv, eps = c["num_heads"], c["d_kv"], c["layer_norm_epsilon"]
    tables = {
        True: {**ref._table_buckets(ref._ENCODER_NEGATIVE, -1), **ref._table_buckets(ref._ENCODER_POSITIVE, 1)},
        False: {**ref._table_buckets(ref._DECODER_NEGATIVE, -1), **{a: 0 for a in range(1, ref.BUCKET_CHECK_RANGE + 1)}},
    }

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        return w[name] * x / np.sqrt(np.mean(x * x, -1, keepdims=True) + eps)

    def attention(x: np.ndarray, kv: np.ndarray, p: str, bias: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        q, k, v = x @ w[p + ".q.weight"].T, kv @ w[p + ".k.weight"].T, kv @ w[p + ".v.weight"].T
        out = np.zeros((x.shape[0], h * dkv))
        for j in range(h):
            sl = slice(j * dkv, (j + 1) * dkv)
            s = q[:, sl] @ k[:, sl].T + bias[j]
            s = np.where(allowed, s, -np.inf)
            e = np.exp(s - s.max(-1, keepdims=True))
            out[:, sl] = (e / e.sum(-1, keepdims=True)) @ v[:, sl]
        return out @ w[p + ".o.weight"].T

    def ff(x: np.ndarray, p: str) -> np.ndarray:
        a = x @ w[p + ".wi_0.weight"].T
        gelu = 0.5 * a * (1 + np.tanh(np.sqrt(2 / np.pi) * (a + 0.044715 * a**3)))
        return (gelu * (x @ w[p + ".wi_1.weight"].T)) @ w[p + ".wo.weight"].T

    def rel_bias(stack: str, n: int, bidirectional: bool) -> np.ndarray:
        table = w[f"{stack}.block.0.layer.0.SelfAttention.relative_attention_bias.weight"]  # [32, h]
        buckets = np.array([[tables[bidirectional][kk - qq] for kk in range(n)] for qq in range(n)])
        return table[buckets].transpose(2, 0, 1)  # [h, q, k]

    logits = []
    for b in range(ids.shape[0]):
        t, u = ids.shape[1], dec.shape[1]
        x = w["shared.weight"][ids[b]]
        bias = rel_bias("encoder", t, True)
        keys = np.broadcast_to(mask[b].astype(bool)[None, :], (t, t))
        for i in range(c["num_layers"]):
            p = f"encoder.block.{i}.layer"
            n0 = norm(x, p + ".0.layer_norm.weight")
            x = x + attention(n0, n0, p + ".0.SelfAttention", bias, keys)
            x = x + ff(norm(x, p + ".1.layer_norm.weight"), p + ".1.DenseReluDense")
        enc = norm(x, "encoder.final_layer_norm.weight")

        y = w["shared.weight"][dec[b]]
        bias = rel_bias("decoder", u, False)
        causal = np.tril(np.ones((u, u), dtype=bool))
        cross = np.broadcast_to(mask[b].astype(bool)[None, :], (u, t))
        for i in range(c["num_decoder_layers"]):
            p = f"decoder.block.{i}.layer"
            n0 = norm(y, p + ".0.layer_norm.weight")
            y = y + attention(n0, n0, p + ".0.SelfAttention", bias, causal)
            y = y + attention(norm(y, p + ".1.layer_norm.weight"), enc, p + ".1.EncDecAttention", np.zeros((h, u, t)), cross)
            y = y + ff(norm(y, p + ".2.layer_norm.weight"), p + ".2.DenseReluDense")
        logits.append(norm(y, "decoder.final_layer_norm.weight") @ w["lm_head.weight"].T)
    return np.stack(logits)


class NumpyForwardTest(unittest.TestCase):
    def test_logits_match_numpy_restatement(self) -> None:
        # Sequences longer than max_distance so that every bucket is used.
        c = tiny_config(num_layers=2, num_decoder_layers=3)
        model = make_model(seed=5, dtype=torch.float64, num_decoder_layers=3)
        g = torch.Generator().manual_seed(6)
        ids = torch.randint(2, 320, (2, 140), generator=g)
        ids[0, 100:] = 0
        dec = torch.randint(2, 320, (2, 135), generator=g)
        mask = (ids != 0).long()
        with torch.no_grad():
            got = model(ids, dec, mask).numpy()
        w = {k: v.numpy() for k, v in model.state_dict().items()}
        want = numpy_forward(w, c, ids.numpy(), dec.numpy(), mask.numpy())
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


class AdafactorTest(unittest.TestCase):
    def test_matches_numpy_restatement(self) -> None:
        rng = np.random.default_rng(4)
        settings = [
            dict(lr=1e-3, beta1=None, weight_decay=0.0, scale_parameter=False, relative_step=False),
            dict(lr=1e-2, beta1=0.9, weight_decay=0.01, scale_parameter=True, relative_step=False),
            dict(lr=None, beta1=None, weight_decay=0.0, scale_parameter=True, relative_step=True),
        ]
        for shape in ((3, 5), (7,), (32, 3)):
            p0 = rng.normal(size=shape)
            grads = [rng.normal(size=shape) * s for s in (1.0, 0.01, 100.0, 1.0)]
            for kw in settings:
                p = torch.tensor(p0, requires_grad=True)
                opt = ref.Adafactor([p], **kw)
                for g in grads:
                    p.grad = torch.tensor(g)
                    opt.step()
                np.testing.assert_allclose(p.detach().numpy(), numpy_adafactor(p0, grads, **kw), rtol=1e-12, atol=1e-15,
                                           err_msg=f"{shape} {kw}")


class GoldenScriptTest(unittest.TestCase):
    def test_generate_and_check(self) -> None:
        with tempfile.TemporaryDirectory() as out:
            torch.set_num_threads(2)
            ref.generate(TINY_CONFIG, out, seed=1234)
            st = ref.read_safetensors(os.path.join(out, "expected.safetensors"))
            t = st.tensors
            settings = json.loads(st.metadata["settings"])
            self.assertEqual(settings["z_loss"], ref.Z_LOSS)
            self.assertEqual(settings["adamw"]["clip_grad_norm"], 1.0)

            model = make_model(seed=1234)  # the same seed reproduces the written weights
            params = dict(model.named_parameters())
            self.assertEqual({n[5:] for n in t if n.startswith("grad.")}, set(params))
            ids, labels = t["input_ids"].torch(), t["labels"].torch()
            self.assertEqual(t["input_ids"].dtype, "I32")
            self.assertEqual(ids[1].tolist()[6:], [1, 0, 0, 0, 0])
            self.assertEqual(labels[2].tolist()[4:], [1, -100, -100])
            self.assertTrue(torch.equal(t["decoder_input_ids"].torch(), ref.shift_right(labels)))
            logits = t["logits"].torch()
            self.assertEqual(tuple(logits.shape), (3, 7, 320))
            with torch.no_grad():
                again = ref.load_hf_model(os.path.join(out, "model"))(ids, ref.shift_right(labels), (ids != 0).long())
            self.assertTrue(torch.equal(again, logits))
            loss = t["loss"].float32()[0]
            self.assertEqual(t["adafactor_losses"].float32()[0], loss)
            self.assertEqual(t["adamw_losses"].float32()[0], loss)
            nll = t["example_nll"].float32()
            self.assertAlmostEqual(nll.sum() / int((labels != -100).sum()), loss, places=4)
            self.assertGreater(t["loss_z"].float32()[0], loss)
            for k in ("adafactor_losses", "adafactor_scaled_losses", "adamw_losses"):
                self.assertLess(t[k].float32()[-1], loss, k)  # every optimizer makes progress
            self.assertEqual(t["long_logits"].shape, (1, 140, 320))
            self.assertEqual(t["long_input_ids"].shape, (1, 150))

            for variant in ("model", "model_sharded", "model_f16", "model_hf_extras"):
                self.assertTrue(os.path.exists(os.path.join(out, variant, "config.json")), variant)
            runs = {
                ("model", "model", True): 0,
                ("model_sharded", "model_sharded", True): 0,
                ("model", "model_sharded", False): 1,  # BF16 rounding changed the values
                ("model", "model_hf_extras", False): 1,  # the ignorable extra tensor is unexpected
            }
            for (a, b, bitwise), rc in runs.items():
                argv = ["--reference", os.path.join(out, a), "--candidate", os.path.join(out, b)] + (["--bitwise"] if bitwise else [])
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    self.assertEqual(check_safetensors.main(argv), rc, (a, b, bitwise))

            # A BF16 reference exported as F32 passes the fp32-exact comparison but not --bitwise.
            widened = os.path.join(out, "widened")
            state = {n: r.torch() for n, r in ref.read_hf_checkpoint(os.path.join(out, "model_sharded")).tensors.items()}
            state["decoder.embed_tokens.weight"] = state["shared.weight"].clone()
            ref.save_hf_model(widened, tiny_config(), state)
            argv = ["--reference", os.path.join(out, "model_sharded"), "--candidate", widened]
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(check_safetensors.main(argv), 0)
                self.assertEqual(check_safetensors.main(argv + ["--bitwise"]), 1)


if __name__ == "__main__":
    unittest.main()
