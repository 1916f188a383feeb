#!/usr/bin/env bash
# stilts report: a runs folder in the layout stilts experiment writes (experiments/README.md
# "Runs and the report"): two model sizes x three regimes x two seeds of an XNLI target task,
# with Tatoeba evaluated after the intermediate stage, a folder without run.json and eval's
# predictions/ beside the task folders. Checks the Markdown, the CSV's numbers, a PNG and an SVG
# of every figure, the same report for the same --seed, and the refusals: a bad run.json field,
# an unreadable summary, gnuplot missing, a bad option. tests/e2e/report_html.sh opens the
# report.html written here in a browser.
source "$(dirname "$0")/lib.sh"

RUNS="$WORK/runs"
# summary DIR TASK METRIC LANG=SCORE...: DIR/eval/TASK/summary.json and DIR/eval/TASK/LANG.json.
summary() {
  local dir=$1/eval/$2 task=$2 metric=$3 languages="" sep=""
  shift 3
  mkdir -p "$dir"
  for pair in "$@"; do
    languages+="$sep\"${pair%=*}\": ${pair#*=}"
    printf '{"score": %s}\n' "${pair#*=}" >"$dir/${pair%=*}.json"
    sep=", "
  done
  printf '{"task": "%s", "headline_metric": "%s", "languages": {%s}, "mean": null, "families": []}\n' \
    "$task" "$metric" "$languages" >"$dir/summary.json"
}
# run ID MODEL REGIME SEED XNLI_OFFSET: xnli in en, de (Indo-European), ar (Afro-Asiatic), sw
# (Niger-Congo); tatoeba in de and ar.
run() {
  local dir=$RUNS/$1 o=$5
  mkdir -p "$dir/eval/predictions/xnli"
  printf '{"model": "%s", "regime": "%s", "task": "xnli", "seed": %s}\n' "$2" "$3" "$4" >"$dir/run.json"
  summary "$dir" xnli accuracy en=$((80 + o)) de=$((70 + o)) ar=$((60 + o)) sw=$((50 + o))
  summary "$dir" tatoeba accuracy de=$((40 + o)) ar=$((30 + o))
}
# Offsets: the seed adds 0 or 2; english adds 1, multilingual 4; mt5-small adds 10.
for model in test-tiny mt5-small; do
  size=0
  [ $model = mt5-small ] && size=10
  for seed in 1 2; do
    s=$((2 * (seed - 1)))
    run "$model-none-$seed" $model none $seed $((size + s))
    run "$model-english-$seed" $model english $seed $((size + s + 1))
    run "$model-multilingual-$seed" $model multilingual $seed $((size + s + 4))
  done
done
mkdir -p "$RUNS/scratch"

"$STILTS" report "$RUNS" --bootstrap 200 >"$WORK/out.txt" 2>"$WORK/err.txt" ||
  fail "stilts report failed: $(cat "$WORK/err.txt")"
cat "$WORK/out.txt"
grep -q "^wrote $RUNS/report/report.html: " "$WORK/out.txt" ||
  fail "stilts report names no report.html"
grep -q "note: .*scratch: no run.json, left out" "$WORK/err.txt" || fail "no note for scratch/"
OUT=$RUNS/report
for f in report.md report.csv report.html plots/plots.gp; do
  [ -s "$OUT/$f" ] || fail "$OUT/$f missing or empty"
done
# Per task: gains of english and multilingual and their difference (for the target task xnli,
# the forest plot of the interaction of ML - EN across sizes); a heat map per model.
figures=(gain-xnli-english gain-xnli-multilingual interaction-xnli
  gain-tatoeba-english gain-tatoeba-multilingual gain-tatoeba-multilingual-english
  heatmap-xnli-test-tiny heatmap-xnli-mt5-small heatmap-tatoeba-test-tiny heatmap-tatoeba-mt5-small)
for stem in "${figures[@]}"; do
  [ "$(head -c 8 "$OUT/plots/$stem.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "$stem.png is no PNG"
  grep -q "<svg" "$OUT/plots/$stem.svg" || fail "$stem.svg is no SVG"
done
echo "ok: ${#figures[@]} figures as PNG and SVG"

# ML - EN is 3 in every language and size: D 3 per size, interaction 0, over de, ar and sw (English
# left out); the runs record no corpora, so the report cannot split seen from unseen and says so.
grep -qF "xnli,all,3,false,difference,test-tiny,3.000000," "$OUT/transfer.csv" ||
  fail "transfer.csv lacks D: $(head -5 "$OUT/transfer.csv")"
grep -qF "xnli,all,3,false,interaction,mt5-small-test-tiny,0.000000," "$OUT/transfer.csv" ||
  fail "transfer.csv lacks the interaction"
grep -qF "xnli,Afro-Asiatic,1,true,slope,,0.000000," "$OUT/transfer.csv" ||
  fail "transfer.csv lacks the flagged one-language family's slope"
grep -qF "### ML − EN across model sizes" "$OUT/report.md" || fail "report.md lacks the transfer table"
# mt5-small's none regime beside mT5's published zero-shot XNLI accuracy (67.5): en, de, ar, sw
# at 90, 80, 70, 60 (seed 1) and 2 more (seed 2), mean 76.
grep -qF "| xnli | mt5-small | accuracy | 67.5 | 76.00 | +8.50 | 2 | 4 of 15 |" "$OUT/report.md" ||
  fail "report.md lacks the published comparison: $(grep -F '| xnli | mt5-small | accuracy' "$OUT/report.md")"
grep -qF "seeds, languages (summaries only)" "$OUT/report.md" || fail "no summaries-only note"
grep -qF "multilingual intermediate mix contained is unknown" "$OUT/report.md" ||
  fail "no note that the multilingual mix is unknown"

# all-language means, English left out: test-tiny none over seeds (60 + 62) / 2 = 61, sd sqrt(2);
# the gain of multilingual is 4 and multilingual - english 3, relative (4 - 1) / 1 = 3;
# Indo-European is de alone; English keeps its own row.
csv_has() {
  grep -qF -- "$1" "$OUT/report.csv" || fail "report.csv lacks '$1': $(head -20 "$OUT/report.csv")"
}
csv_has "task,model,family,language,regime,n_seeds,mean,sd,ci_low,ci_high,gain,gain_ci_low,gain_ci_high,relative_gain"
csv_has "xnli,test-tiny,all,,none,2,61.000000,1.414214,"
csv_has "xnli,mt5-small,Afro-Asiatic,,multilingual,2,75.000000,1.414214,"
csv_has "xnli,test-tiny,Indo-European,,multilingual,2,75.000000,1.414214,"
csv_has "xnli,test-tiny,Indo-European,en,multilingual,2,85.000000,1.414214,"
csv_has ",4.000000,"
csv_has "xnli,test-tiny,all,,multilingual-english,,,,,,3.000000,"
csv_has ",3.000000"
csv_has "tatoeba,mt5-small,Indo-European,de,english,2,52.000000,"
grep -q "^## xnli (accuracy, x100)" "$OUT/report.md" || fail "report.md lacks the xnli section"
grep -q "tatoeba is no run's target task" "$OUT/report.md" || fail "report.md lacks the caveat"
grep -q "Appendix: per language" "$OUT/report.md" || fail "report.md lacks the appendix"
grep -qF "| all (non-English) | 61.00 ± 1.41" "$OUT/report.md" || fail "report.md's all row keeps English"
echo "ok: report.md and report.csv"

# The same seed gives the same report; --out elsewhere.
"$STILTS" report "$RUNS" --bootstrap 200 --out "$WORK/again" >/dev/null 2>&1 ||
  fail "second report failed"
cmp "$OUT/report.csv" "$WORK/again/report.csv" || fail "the same --seed gave another report.csv"
echo "ok: deterministic"

# Refusals.
expect_error 2 "--baseline nope: expected one of none, english, multilingual, shuffled, mlm" -- "$STILTS" report "$RUNS" --baseline nope
expect_error 2 "confidence must lie strictly between 0 and 1" -- \
  "$STILTS" report "$RUNS" --confidence 1.5
expect_error 1 "gnuplot not found.*gnuplot-nox" -- env PATH=/nonexistent "$STILTS" report "$RUNS"
printf '{"model": "mt5-small", "regime": "bilingual", "task": "xnli", "seed": 1}\n' \
  >"$RUNS/mt5-small-none-1/run.json"
expect_error 1 "mt5-small-none-1/run.json: field 'regime': 'bilingual' is none of" -- \
  "$STILTS" report "$RUNS"
printf '{"model": "mt5-small", "regime": "none", "task": "xnli"}\n' >"$RUNS/mt5-small-none-1/run.json"
expect_error 1 "mt5-small-none-1/run.json: field 'seed': missing" -- "$STILTS" report "$RUNS"
printf '{"model": "mt5-small", "regime": "none", "task": "xnli", "seed": 1}\n' \
  >"$RUNS/mt5-small-none-1/run.json"
printf '{"task": "xnli", ' >"$RUNS/mt5-small-none-1/eval/xnli/summary.json"
expect_error 1 "mt5-small-none-1/eval/xnli/summary.json: not valid JSON" -- "$STILTS" report "$RUNS"
echo "PASS"
