#!/usr/bin/python3
"""Compare an HF mT5 directory written by `stilts export-hf` (the candidate) with a reference one.

  /usr/bin/python3 tests/golden/check_safetensors.py --reference DIR_A --candidate DIR_B [--bitwise]

Both directories may be single-file (model.safetensors) or sharded (model.safetensors.index.json).
Checks:
  - every candidate file obeys the writer rules: header length a multiple of 8, JSON padded with
    spaces only, data_offsets contiguous from 0 in (dtype alignment desc, name) order, file size =
    8 + header + data, byte count of each tensor = its declared shape (the reader validates the
    rest: header bound, offsets in range, supported dtypes);
  - the same tensor names, except that the candidate may omit encoder/decoder.embed_tokens.weight
    (if present they must equal shared.weight);
  - same shapes; values equal: --bitwise compares dtype and raw bytes, otherwise values are
    compared after exact widening to float32, so e.g. a BF16 reference may be exported as F32;
  - config.json MT5 fields equal to the reference's, and tie_word_embeddings false.
Prints problems on stderr, a one-line summary on stdout; exit status 0 when all checks pass.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mt5_reference as ref  # noqa: E402

# Fields compared between the two config.json files, with the HF MT5Config default used when a
# field is absent (None: the field is required).
CONFIG_FIELDS: dict[str, object] = {
    "vocab_size": None,
    "d_model": None,
    "d_kv": None,
    "d_ff": None,
    "num_heads": None,
    "num_layers": None,
    "num_decoder_layers": None,  # absent means num_layers
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "layer_norm_epsilon": 1e-6,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}


def writer_rule_problems(st: ref.SafetensorsFile) -> list[str]:
    """Rules the safetensors writer follows that the reader does not enforce."""
    name = os.path.basename(st.path)
    problems = []
    if st.header_len % 8:
        problems.append(f"{name}: header length {st.header_len} is not a multiple of 8")
    padding = st.header_bytes[st.header_bytes.rindex(b"}") + 1 :]
    if padding.strip(b" "):
        problems.append(f"{name}: header is padded with {padding!r}, not spaces")
    order = list(st.offsets)  # data order, as validated contiguous from 0 by the reader
    expected = sorted(order, key=lambda n: ref.safetensors_sort_key(n, st.tensors[n].dtype))
    if order != expected:
        first = next(i for i, (a, b) in enumerate(zip(order, expected)) if a != b)
        problems.append(
            f"{name}: data order is not (dtype alignment desc, name): {order[first]!r} at position "
            f"{first}, expected {expected[first]!r}"
        )
    return problems


def config_problems(reference: dict, candidate: dict) -> list[str]:
    problems = []
    for key, default in CONFIG_FIELDS.items():
        values = []
        for cfg in (reference, candidate):
            if key == "num_decoder_layers":
                values.append(cfg.get(key) or cfg.get("num_layers"))
            else:
                values.append(cfg.get(key, default))
        if values[1] is None or values[0] != values[1]:
            problems.append(f"config.json: {key}: candidate {values[1]!r}, reference {values[0]!r}")
    if candidate.get("tie_word_embeddings") is not False:
        problems.append(
            f"config.json: tie_word_embeddings must be false, is {candidate.get('tie_word_embeddings')!r}"
        )
    return problems


def values_equal(a: ref.TensorRecord, b: ref.TensorRecord, bitwise: bool) -> bool:
    if bitwise:
        return a.dtype == b.dtype and a.data == b.data
    return np.array_equal(a.float32(), b.float32(), equal_nan=True)


def tensor_problems(
    reference: dict[str, ref.TensorRecord], candidate: dict[str, ref.TensorRecord], bitwise: bool
) -> list[str]:
    problems = []
    # Copies of shared.weight are optional on both sides; a candidate's are checked against
    # its shared.weight instead of against the reference.
    reference = {k: v for k, v in reference.items() if k not in ref.TIED_EMBEDDING_COPIES}
    cand = dict(candidate)
    for name in ref.TIED_EMBEDDING_COPIES:
        copy = cand.pop(name, None)
        if copy is not None and "shared.weight" in cand and not values_equal(cand["shared.weight"], copy, bitwise):
            problems.append(f"{name} is present but differs from shared.weight")
    missing = sorted(set(reference) - set(cand))
    extra = sorted(set(cand) - set(reference))
    problems += [f"missing tensor {n}" for n in missing] + [f"unexpected tensor {n}" for n in extra]
    for name in sorted(set(reference) & set(cand)):
        r, c = reference[name], cand[name]
        if r.shape != c.shape:
            problems.append(f"{name}: shape {list(c.shape)}, reference {list(r.shape)}")
        elif bitwise and r.dtype != c.dtype:
            problems.append(f"{name}: dtype {c.dtype}, reference {r.dtype}")
        elif not values_equal(r, c, bitwise):
            diff = np.abs(r.float32().astype(np.float64) - c.float32().astype(np.float64))
            problems.append(
                f"{name}: values differ ({int(np.count_nonzero(diff))}/{diff.size} elements, "
                f"max |diff| {float(np.nanmax(diff)) if diff.size else 0.0:.3g})"
            )
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reference", required=True)
    ap.add_argument("--candidate", required=True)
    ap.add_argument("--bitwise", action="store_true", help="require equal dtypes and bytes")
    args = ap.parse_args(argv)

    try:
        reference = ref.read_hf_checkpoint(args.reference)
    except (OSError, ValueError, KeyError) as e:
        print(f"check_safetensors: ERROR: cannot read reference {args.reference}: {e}")
        return 1
    try:
        candidate = ref.read_hf_checkpoint(args.candidate)
    except (OSError, ValueError, KeyError) as e:
        print(f"check_safetensors: FAIL: cannot read candidate {args.candidate}: {e}")
        return 1

    problems = []
    for st in candidate.files:
        problems += writer_rule_problems(st)
    problems += config_problems(reference.config, candidate.config)
    problems += tensor_problems(reference.tensors, candidate.tensors, args.bitwise)

    mode = "bitwise" if args.bitwise else "fp32-exact"
    if problems:
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        print(f"check_safetensors: FAIL: {len(problems)} problem(s) ({mode}); first: {problems[0]}")
        return 1
    dtypes = ",".join(sorted({r.dtype for r in candidate.tensors.values()}))
    print(
        f"check_safetensors: OK: {len(candidate.tensors)} tensors ({dtypes}) in "
        f"{len(candidate.files)} file(s) match {args.reference} ({mode}), config matches"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
