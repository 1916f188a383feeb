"""`stilts loss` on the golden batch against the PyTorch reference's per-example NLL.

usage: loss_check.py STILTS CHECKPOINT GOLDEN_DIR
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
import mt5_reference  # noqa: E402


def sequences(rows, drop):
    """Rows of ids without their padding, as stilts loss takes them: '5 6 1;7 1'."""
    return ";".join(" ".join(str(int(t)) for t in row if t != drop) for row in rows)


def main() -> None:
    stilts, checkpoint, golden = sys.argv[1:4]
    expected = mt5_reference.read_safetensors(os.path.join(golden, "expected.safetensors"))
    inputs = sequences(expected.tensors["input_ids"].numpy(), drop=0)
    labels = sequences(expected.tensors["labels"].numpy(), drop=-100)
    out = subprocess.run([stilts, "loss", "--checkpoint", checkpoint, "--inputs", inputs,
                          "--labels", labels], check=True, capture_output=True, text=True).stdout
    print(out, end="")
    lines = out.strip().splitlines()
    nll = expected.tensors["example_nll"].float32()
    for i, want in enumerate(nll):
        words = lines[i].split()
        assert words[:3] == ["example", str(i), "nll"], lines[i]
        got = float(words[3])
        assert abs(got - want) <= 1e-5 * abs(want) + 1e-6, f"example {i}: {got} vs {want}"
    assert lines[-1].startswith("loss "), lines[-1]
    loss = float(lines[-1].split()[1])
    want = float(expected.tensors["loss"].float32()[0])
    assert abs(loss - want) <= 1e-5 * abs(want) + 1e-6, f"loss {loss} vs {want}"
    print(f"stilts loss matches the reference: {len(nll)} examples, loss {loss} vs {want:.6f}")


if __name__ == "__main__":
    main()
