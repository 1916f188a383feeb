"""Writes two broken copies of a Hugging Face model directory for the error tests:
hf-wrong-shape (lm_head.weight with half its columns) and hf-wrong-dtype (lm_head.weight as I64).

usage: make_bad_safetensors.py MODEL_DIR OUT_DIR
"""

import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import mt5_reference  # noqa: E402


def main() -> None:
    model_dir, out = sys.argv[1:3]
    tensors = {name: record.torch()
               for name, record in mt5_reference.read_safetensors(
                   os.path.join(model_dir, "model.safetensors")).tensors.items()}
    for variant, head in (("hf-wrong-shape", tensors["lm_head.weight"][:, :32].contiguous()),
                          ("hf-wrong-dtype", tensors["lm_head.weight"].to(torch.int64))):
        target = os.path.join(out, variant)
        os.makedirs(target, exist_ok=True)
        shutil.copyfile(os.path.join(model_dir, "config.json"), os.path.join(target, "config.json"))
        mt5_reference.write_safetensors(os.path.join(target, "model.safetensors"),
                                        {**tensors, "lm_head.weight": head}, {"format": "pt"})


if __name__ == "__main__":
    main()
