#!/usr/bin/python3
"""Time full mT5 training steps of the PyTorch reference on the CPU, for comparison with
`stilts bench`, which prints the same three lines.

  /usr/bin/python3 bench/pytorch_bench.py --config HF_CONFIG_JSON --batch B --input-len T \
      --target-len U [--steps 10] [--warmup 3] [--threads 2] [--optimizer adafactor|adamw]

A step is zero_grad(set_to_none=False), forward, token-mean cross entropy, backward and an
optimizer step; the model is in train mode with the config's dropout. Random ids, no padding.
Adafactor uses the T5 fine-tuning recipe (lr 1e-3, no parameter scaling, no relative step);
AdamW uses lr 1e-3, weight decay 0.01.
Output:
  step ms: X        mean over the timed steps (after --warmup untimed ones)
  tokens/s: Y       B*(T+U) tokens per step / mean step time
  peak memory: Z MiB  max resident set size of this process
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
import mt5_reference as ref  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="HF MT5 config.json")
    ap.add_argument("--batch", type=int, required=True)
    ap.add_argument("--input-len", type=int, required=True)
    ap.add_argument("--target-len", type=int, required=True)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--optimizer", choices=("adafactor", "adamw"), default="adafactor")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.steps < 1:
        ap.error("--steps must be at least 1")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    with open(args.config) as f:
        cfg = ref.MT5Config.from_hf_dict(json.load(f))
    model = ref.MT5(cfg)
    ref.init_weights(model)
    model.train()
    if args.optimizer == "adafactor":
        opt: torch.optim.Optimizer = ref.Adafactor(
            model.parameters(), lr=1e-3, scale_parameter=False, relative_step=False, warmup_init=False
        )
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)

    b, t, u = args.batch, args.input_len, args.target_len
    input_ids = torch.randint(2, cfg.vocab_size, (b, t))
    labels = torch.randint(2, cfg.vocab_size, (b, u))
    decoder_input_ids = ref.shift_right(labels, cfg.decoder_start_token_id, cfg.pad_token_id)

    def train_step() -> None:
        opt.zero_grad(set_to_none=False)
        loss = ref.mt5_loss(model(input_ids, decoder_input_ids), labels)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        train_step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        train_step()
        times.append(time.perf_counter() - start)

    step_s = sum(times) / len(times)
    print(f"step ms: {step_s * 1e3:.2f}")
    print(f"tokens/s: {b * (t + u) / step_s:.2f}")
    # ru_maxrss is in KiB on Linux.
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.2f} MiB")


if __name__ == "__main__":
    main()
