#!/usr/bin/env python3
"""Time full mT5 training steps of Hugging Face's MT5ForConditionalGeneration on the GPU (PyTorch
eager, bf16 autocast over f32 weights), the peer of `stilts bench --device cuda` and of
stilts-bench-cuda, whose first lines it prints in the same format.

  python3 bench/hf_gpu_bench.py --model mt5-small|mt5-base|mt5-large | --config HF_CONFIG_JSON \
      --batch B --input-len T --target-len U [--steps 10] [--warmup 3] \
      [--optimizer adafactor|adamw]

The model is built from its config (MT5ForConditionalGeneration(config), no download) in train
mode with the config's dropout (0.1), like stilts bench. A step is zero_grad, forward under
torch.autocast(bfloat16) with labels (HF's token-mean cross entropy), backward and an optimizer
step on the f32 weights: Adafactor as stilts' default (lr 1e-3, no parameter scaling, no
relative step) or AdamW (lr 1e-3, weight decay 0.01). Random ids in [2, vocab), no padding.
Output:
  step ms: X           mean over the timed steps (after --warmup untimed ones)
  tokens/s: Y          B*(T+U) tokens per step / mean step time
  peak GPU memory: Z MiB  torch.cuda.max_memory_allocated
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from transformers import MT5Config, MT5ForConditionalGeneration
from transformers.optimization import Adafactor

# The published configs of google/mt5-{small,base,large} (the presets of the same names in
# stilts, core/config.cc), so that no download is needed.
PRESETS = {
    "mt5-small": dict(d_model=512, d_ff=1024, num_heads=6, num_layers=8, num_decoder_layers=8),
    "mt5-base": dict(d_model=768, d_ff=2048, num_heads=12, num_layers=12, num_decoder_layers=12),
    "mt5-large": dict(d_model=1024, d_ff=2816, num_heads=16, num_layers=24, num_decoder_layers=24),
}


def mt5_config(args: argparse.Namespace) -> MT5Config:
    if args.config:
        with open(args.config) as f:
            return MT5Config.from_dict(json.load(f))
    return MT5Config(
        vocab_size=250112,
        d_kv=64,
        dropout_rate=0.1,
        feed_forward_proj="gated-gelu",
        tie_word_embeddings=False,
        **PRESETS[args.model],
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", choices=sorted(PRESETS))
    source.add_argument("--config", help="HF MT5 config.json (stilts plan --write-config)")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--input-len", type=int, required=True)
    ap.add_argument("--target-len", type=int, required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--optimizer", choices=("adafactor", "adamw"), default="adafactor")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.steps < 1:
        ap.error("--steps must be at least 1")
    if not torch.cuda.is_available():
        raise SystemExit("hf_gpu_bench.py: torch sees no CUDA device")

    torch.manual_seed(args.seed)
    device = torch.device("cuda")
    config = mt5_config(args)
    # Built on the GPU: mt5-large's 1.2 B parameters initialize there in seconds, not the
    # minute the CPU takes, which a lent machine's few minutes cannot spare.
    with device:
        model = MT5ForConditionalGeneration(config)
    model.train()
    if args.optimizer == "adafactor":
        opt: torch.optim.Optimizer = Adafactor(
            model.parameters(), lr=1e-3, scale_parameter=False, relative_step=False, warmup_init=False
        )
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    b, t, u = args.batch, args.input_len, args.target_len
    input_ids = torch.randint(2, config.vocab_size, (b, t), device=device)
    labels = torch.randint(2, config.vocab_size, (b, u), device=device)

    def train_step() -> None:
        opt.zero_grad()
        with torch.autocast("cuda", dtype=torch.bfloat16):
            loss = model(input_ids=input_ids, labels=labels).loss
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        train_step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        train_step()
    torch.cuda.synchronize()
    step_s = (time.perf_counter() - start) / args.steps

    print(f"model {args.model or args.config}, batch {b}, input {t}, target {u}, on {torch.cuda.get_device_name()}")
    print(f"step ms: {step_s * 1e3:.2f}")
    print(f"tokens/s: {b * (t + u) / step_s:.1f}")
    print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
