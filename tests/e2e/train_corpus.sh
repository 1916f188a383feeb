#!/usr/bin/env bash
# stilts train on prepared corpora: a tiny tokenizer and three fixture corpora (two mixed for
# training, one held out), losses logged, 5 + resume + 5 steps bit-identical to 10 straight,
# and the refusals: a corpus of another tokenizer, a model vocabulary smaller than the
# tokenizer, other corpora on resume, --task with --corpus.
source "$(dirname "$0")/lib.sh"

UNIT="$(cd "$(dirname "$0")/../unit/data" && pwd)"
XNLI="$UNIT/readers/fixtures/xtreme/xnli"
UDHR="$UNIT/udhr/fixtures"

# Byte fallback takes 259 pieces, so a model vocabulary of 320 (test-tiny) leaves room for only
# a few sentinels and Latin-script text.
for _ in 1 2 3 4 5 6; do
  cat "$XNLI/train-en.tsv" "$UDHR/eng.html" "$UDHR/swh_plain.html"
done >"$WORK/text.txt"
tokenizer() {
  "$STILTS" tokenizer train --input "$WORK/text.txt" --model-prefix "$WORK/$1" --vocab-size "$2" \
    --extra-ids 10 --character-coverage 0.98 >/dev/null
}
tokenizer tok 320
tokenizer other 330
prepare() {
  "$STILTS" prepare --task "$1" --input "$2" --tokenizer "$WORK/$3.model" --extra-ids 10 \
    --out "$WORK/$4.h5" >/dev/null
}
prepare xnli "$XNLI/train-en.tsv" tok xnli
prepare udhr "$UDHR/eng.html" tok udhr
prepare udhr "$UDHR/swh_plain.html" tok held-out
prepare udhr "$UDHR/eng.html" other udhr-other

data=(--corpus "$WORK/xnli.h5" --corpus "$WORK/udhr.h5" --tokenizer "$WORK/tok.model"
      --mixture-weights "1,2" --max-tokens 512 --max-input-len 128 --max-target-len 64)
common=(--model test-tiny "${data[@]}" --eval-corpus "$WORK/held-out.h5" --eval-batches 2
        --seed 3 --log-every 1 --optimizer adafactor --momentum 0.9 --lr 1e-2 --warmup-steps 3)
"$STILTS" train "${common[@]}" --steps 10 --run-dir "$WORK/straight" >"$WORK/straight.txt"
grep -q "corpora .*xnli.h5, .*udhr.h5, up to 512 tokens per batch" "$WORK/straight.txt" ||
  fail "no data summary: $(cat "$WORK/straight.txt")"
grep -q "eval step 10 | loss" "$WORK/straight.txt" || fail "the held-out corpus was not evaluated"
"$STILTS" train "${common[@]}" --steps 5 --run-dir "$WORK/split" >/dev/null
"$STILTS" train "${common[@]}" --steps 10 --run-dir "$WORK/split" >"$WORK/resumed.txt"
grep -q "resuming .*step-00000005 at step 5" "$WORK/resumed.txt" || fail "the second run did not resume"

losses() { $PY -c '
import json, math, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "loss" in r:
        assert math.isfinite(r["loss"]) and r["loss"] > 0, r
        print(r["step"], repr(r["loss"]))' "$1"; }
losses "$WORK/straight/log.jsonl" >"$WORK/a.txt"
losses "$WORK/split/log.jsonl" >"$WORK/b.txt"
[ "$(wc -l <"$WORK/a.txt")" -eq 10 ] || fail "expected 10 logged losses: $(cat "$WORK/a.txt")"
diff "$WORK/a.txt" "$WORK/b.txt" || fail "resumed losses differ from the straight run"
"$STILTS" export-hf "$WORK/straight" --out "$WORK/straight-hf" >/dev/null
"$STILTS" export-hf "$WORK/split" --out "$WORK/split-hf" >/dev/null
cmp "$WORK/straight-hf/model.safetensors" "$WORK/split-hf/model.safetensors" ||
  fail "final weights differ"
$PY - "$WORK/straight/step-00000010/config.json" <<'PY' || fail "run config lacks the data"
import json, sys
c = json.load(open(sys.argv[1]))
assert [p.rsplit("/", 1)[1] for p in c["corpora"]] == ["xnli.h5", "udhr.h5"], c
assert c["data"]["mixture_weights"] == [1.0, 2.0] and c["data"]["max_tokens"] == 512, c
assert len(c["tokenizer_checksum"]) == 16, c
PY

expect_error 1 "corpus .*udhr-other.h5 was tokenized with .*prepare the corpus again" -- \
  "$STILTS" train --model test-tiny --corpus "$WORK/xnli.h5" --corpus "$WORK/udhr-other.h5" \
  --tokenizer "$WORK/tok.model" --steps 1 --run-dir "$WORK/other"
expect_error 1 "tok.model has 320 pieces, more than the vocabulary of model test-small \(256\); .*test-tiny \(320\)" -- \
  "$STILTS" train --model test-small "${data[@]}" --steps 1 --run-dir "$WORK/small"
expect_error 1 "holds a run on --corpus .*xnli.h5, .*udhr.h5; resume it with the same corpora" -- \
  "$STILTS" train --model test-tiny --corpus "$WORK/udhr.h5" --tokenizer "$WORK/tok.model" \
  --steps 12 --run-dir "$WORK/straight"
expect_error 2 "--task and --corpus: give one of them" -- \
  "$STILTS" train --task copy "${data[@]}" --run-dir "$WORK/both"
expect_error 2 "--batch: applies to --task only" -- \
  "$STILTS" train "${data[@]}" --batch 8 --run-dir "$WORK/both"
expect_error 2 "--tokenizer: applies only with --corpus" -- \
  "$STILTS" train --task copy --tokenizer "$WORK/tok.model" --run-dir "$WORK/both"
expect_error 2 "--mixture-weights: 1 weights for 2 corpora" -- \
  "$STILTS" train --corpus "$WORK/xnli.h5" --corpus "$WORK/udhr.h5" --tokenizer "$WORK/tok.model" \
  --mixture-weights 1 --run-dir "$WORK/both"
for dir in other small both; do [ ! -e "$WORK/$dir" ] || fail "a refused run wrote $dir"; done
echo "10 corpus losses bit-identical across a resume; last: $(tail -1 "$WORK/a.txt")"
