#!/usr/bin/env bash
# stilts prepare: a tiny tokenizer trained on fixture text, then XNLI and UDHR fixture files
# prepared into corpora: the summary, truncation, skipped records, an existing output kept
# without --force and replaced with it, and the usage and input errors.
source "$(dirname "$0")/lib.sh"

UNIT="$(cd "$(dirname "$0")/../unit/data" && pwd)"
XNLI="$UNIT/readers/fixtures/xtreme/xnli"
BAD_XNLI="$UNIT/readers/fixtures/xtreme/malformed/xnli"
UDHR="$UNIT/udhr/fixtures"

for _ in 1 2 3 4 5 6; do
  cat "$XNLI"/*.tsv "$UDHR"/*.html
done >"$WORK/text.txt"
"$STILTS" tokenizer train --input "$WORK/text.txt" --model-prefix "$WORK/tok" --vocab-size 700 \
  --character-coverage 0.98 >/dev/null
T=(--tokenizer "$WORK/tok.model")

# expect_summary FILE PATTERN...: every pattern (grep -F) is a line of the summary.
expect_summary() {
  local file=$1
  shift
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$file" || fail "summary lacks '$pattern': $(cat "$file")"
  done
}

OUT="$WORK/xnli-dev-ar.h5"
"$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$OUT" >"$WORK/first.txt"
expect_summary "$WORK/first.txt" "wrote $OUT: task xnli, lang ar, split dev, vocab 768, tokenizer " \
  "examples:  3 from 1 file" "skipped:   0 bad records" \
  "truncated: 0 inputs (no limit), 0 targets (no limit)" "eos included" "examples/s on"
[ "$(head -c 8 "$OUT" | od -An -c | tr -d ' ')" = '211HDF\r\n032\n' ] || fail "$OUT is not HDF5"
cp "$OUT" "$WORK/first.h5"

# An existing corpus is kept unless --force; with it, the file is replaced.
expect_error 1 "xnli-dev-ar.h5: already exists; pass --force to replace it" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$OUT" --max-input-len 8
cmp -s "$OUT" "$WORK/first.h5" || fail "a refused run changed $OUT"
"$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$OUT" \
  --max-input-len 8 --force --threads 2 >"$WORK/forced.txt"
expect_summary "$WORK/forced.txt" "examples:  3 from 1 file" \
  "truncated: 3 inputs (max 8), 0 targets (no limit)" "tokens:    24 input" "on 2 threads"
cmp -s "$OUT" "$WORK/first.h5" && fail "--force did not replace $OUT"
ls "$WORK" | grep -q '\.tmp-' && fail "a temporary corpus file was left behind"

# Malformed records fail, naming file and line, or are skipped and reported.
expect_error 1 "dev-de.tsv:2: expected 3 tab-separated columns" -- \
  "$STILTS" prepare --task xnli --input "$BAD_XNLI/dev-de.tsv" "${T[@]}" --out "$WORK/de.h5"
[ ! -e "$WORK/de.h5" ] || fail "a failed prepare wrote de.h5"
"$STILTS" prepare --task xnli --input "$BAD_XNLI/dev-de.tsv" "${T[@]}" --out "$WORK/de.h5" \
  --skip-bad-records >"$WORK/skipped.txt"
expect_summary "$WORK/skipped.txt" "examples:  1 from 1 file" "skipped:   2 bad records" \
  "dev-de.tsv:3: bad label 'maybe'"

# Several files of one language and split make one corpus; the UDHR has no split: train.
"$STILTS" prepare --task udhr --input "$UDHR/eng.html" --input "$UDHR/eng.html" "${T[@]}" \
  --out "$WORK/udhr-en.h5" >"$WORK/udhr.txt"
expect_summary "$WORK/udhr.txt" "task udhr, lang en, split train" "examples:  10 from 2 files" \
  "10 target, eos included"

# --keep-fraction keeps a seeded subset by example id: what is kept and what is not add up.
"$STILTS" prepare --task udhr --input "$UDHR/eng.html" --input "$UDHR/eng.html" "${T[@]}" \
  --out "$WORK/udhr-half.h5" --keep-fraction 0.5 --keep-seed 3 >"$WORK/half.txt"
kept=$(sed -n 's/^  examples:  \([0-9]*\) from.*/\1/p' "$WORK/half.txt")
dropped=$(sed -n 's/^  not kept:  \([0-9]*\) outside --keep-fraction 0.5 (seed 3)$/\1/p' "$WORK/half.txt")
[ -n "$kept" ] && [ -n "$dropped" ] && [ $((kept + dropped)) -eq 10 ] && [ "$dropped" -gt 0 ] ||
  fail "--keep-fraction 0.5: kept '$kept' and not kept '$dropped' of 10: $(cat "$WORK/half.txt")"
expect_error 2 "--keep-fraction" -- "$STILTS" prepare --task udhr --input "$UDHR/eng.html" \
  "${T[@]}" --out "$WORK/none.h5" --keep-fraction 0
[ ! -e "$WORK/none.h5" ] || fail "a refused prepare wrote none.h5"

# The corpus is the same, byte for byte, whatever the thread count or the clock (the pause
# puts the two runs in different seconds, which HDF5 would record as creation times).
many=()
for _ in $(seq 40); do many+=(--input "$UDHR/eng.html"); done
"$STILTS" prepare --task udhr "${many[@]}" "${T[@]}" --out "$WORK/one.h5" --threads 1 >/dev/null
sleep 1
"$STILTS" prepare --task udhr "${many[@]}" "${T[@]}" --out "$WORK/two.h5" --threads 2 >/dev/null
cmp -s "$WORK/one.h5" "$WORK/two.h5" || fail "1 and 2 threads wrote different corpora"

expect_error 2 "--task: unknown task 'nope' \(known tasks: xnli, " -- \
  "$STILTS" prepare --task nope --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$WORK/x.h5"
expect_error 2 "--input: '.*missing.tsv' is not a readable file" -- \
  "$STILTS" prepare --task xnli --input "$WORK/missing.tsv" "${T[@]}" --out "$WORK/x.h5"
expect_error 2 "--input: '.*fixtures' is not a readable file$" -- \
  "$STILTS" prepare --task xnli --input "$UDHR" "${T[@]}" --out "$WORK/x.h5"
# The UDHR readers take the package folder: --language picks the declaration.
mkdir -p "$WORK/package/declaration" && cp "$UDHR/eng.html" "$WORK/package/declaration/"
"$STILTS" prepare --task udhr --input "$WORK/package" --language en "${T[@]}" \
  --out "$WORK/folder-en.h5" | grep -q "task udhr, lang en" || fail "a package folder was not read"
expect_error 1 "package: no declaration hin.html for language hi" -- \
  "$STILTS" prepare --task udhr --input "$WORK/package" --language hi "${T[@]}" --out "$WORK/x.h5"
expect_error 2 "the option '--out' is required" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}"
expect_error 2 "--max-target-len: must be 0 \(no limit\) or at least 2" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$WORK/x.h5" \
  --max-target-len 1
expect_error 2 "--language: unknown language code 'xx'" -- \
  "$STILTS" prepare --task udhr --input "$UDHR/eng.html" "${T[@]}" --out "$WORK/x.h5" \
  --language xx
expect_error 2 "file names give the splits 'dev' and 'train'" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" --input "$XNLI/train-en.tsv" "${T[@]}" \
  --out "$WORK/x.h5"
expect_error 1 "a corpus holds one language" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" --input "$XNLI/train-en.tsv" "${T[@]}" \
  --out "$WORK/x.h5" --split dev
expect_error 1 "missing.model: cannot open" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" --tokenizer "$WORK/missing.model" \
  --out "$WORK/x.h5"
expect_error 1 "nodir/x.h5: directory .*nodir does not exist" -- \
  "$STILTS" prepare --task xnli --input "$XNLI/dev-ar.tsv" "${T[@]}" --out "$WORK/nodir/x.h5"
[ ! -e "$WORK/x.h5" ] || fail "a failed prepare wrote x.h5"
# Span corruption for pre-training and continued MLM: chunks sized so the corrupted input fits
# --max-input-len, written with their targets; the loader reads the corpus back.
"$STILTS" prepare --task udhr --input "$UDHR/eng.html" "${T[@]}" --out "$WORK/span.h5" \
  --objective span_corruption --max-input-len 16 --seed 5 >"$WORK/span.txt"
expect_summary "$WORK/span.txt" "examples:  5 from 1 file" "raw tokens (input 16)" \
  "0 targets (no limit)"
records=$(sed -n 's/.*span corruption: \([0-9]*\) records.*/\1/p' "$WORK/span.txt")
[ "$records" -gt 5 ] || fail "span corruption made $records records from 5 long paragraphs"
"$STILTS" bench --what data --corpus "$WORK/span.h5" --batches 3 --max-tokens 512 \
  --max-input-len 16 --max-target-len 16 >"$WORK/span-load.txt"
grep -q "loader tokens/s" "$WORK/span-load.txt" || fail "the span corpus did not load"
"$STILTS" bench --what data --prepare-task udhr --prepare-input "$UDHR/eng.html" "${T[@]}" \
  --batches 2 --max-tokens 1024 >"$WORK/prepare-bench.txt"
grep -q "prepare examples/s: .* (5 examples" "$WORK/prepare-bench.txt" ||
  fail "bench --what data did not time the preparation: $(cat "$WORK/prepare-bench.txt")"
expect_error 2 "target length must be 0: span corruption sets the target length" -- \
  "$STILTS" prepare --task udhr --input "$UDHR/eng.html" "${T[@]}" --out "$WORK/x.h5" \
  --objective span_corruption --max-target-len 8
expect_error 2 "--objective: expected supervised or span_corruption" -- \
  "$STILTS" prepare --task udhr --input "$UDHR/eng.html" "${T[@]}" --out "$WORK/x.h5" \
  --objective mlm
echo "prepare command behaves"
