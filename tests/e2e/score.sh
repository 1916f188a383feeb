#!/usr/bin/env bash
# stilts score: a prediction tree and a label tree in XTREME's evaluate.py layout (several tasks,
# languages in Latin, Devanagari, Han and Japanese script), the text report and the JSON file;
# then bad input: unequal counts, a malformed file, a missing folder, bad options.
source "$(dirname "$0")/lib.sh"

P="$WORK/predictions"
L="$WORK/labels"
# put DIR TASK LANG EXT TEXT: writes DIR/TASK/test-LANG.EXT.
put() {
  mkdir -p "$1/$2"
  printf '%s' "$5" >"$1/$2/test-$3.$4"
}

# XNLI: every language right except ar, 3 of 4; XCOPA: every language right.
for lang in ar bg de el en es fr hi ru sw th tr ur vi zh; do
  put "$L" xnli $lang tsv $'entailment\nneutral\n'
  put "$P" xnli $lang tsv $'entailment\nneutral\n'
done
put "$L" xnli ar tsv $'entailment\nneutral\ncontradiction\nneutral\n'
put "$P" xnli ar tsv $'entailment\nneutral\nneutral\nneutral\n'
for lang in et ht id it qu sw ta th tr vi zh; do
  put "$L" xcopa $lang jsonl $'{"label": 1}\n{"label": 0}\n'
  put "$P" xcopa $lang jsonl $'{"label": 1}\n{"label": 0}\n'
done
# PAN-X ja: gold PER, LOC, ORG; predicted PER, ORG: F1 80.
put "$L" panx ja tsv $'B-PER\nI-PER\nO\nB-LOC\n\nO\nB-ORG\n'
put "$P" panx ja tsv $'B-PER\nI-PER\nO\nO\n\nO\nB-ORG\n'
# XQuAD hi: exact; MLQA zh: two of four characters (F1 66.67) and one unanswered question.
squad() { # ID ANSWER [ID ANSWER]
  local qas="" sep=""
  while [ $# -gt 0 ]; do
    qas+="$sep{\"id\": \"$1\", \"question\": \"?\", \"answers\": [{\"text\": \"$2\", \"answer_start\": 0}]}"
    sep=", "
    shift 2
  done
  printf '{"version": "1.1", "data": [{"title": "t", "paragraphs": [{"context": "c", "qas": [%s]}]}]}' "$qas"
}
put "$L" xquad hi json "$(squad h1 'नई दिल्ली')"
put "$P" xquad hi json '{"h1": "नई दिल्ली"}'
put "$L" mlqa zh json "$(squad m1 '北京大学' m2 '上海')"
put "$P" mlqa zh json '{"m1": "北京"}'
# Mewsli-X ja: the gold second of the ranking (1/2) and one mention unpredicted: 25.
put "$L" mewslix ja json '{"東京-1": ["Q1490"], "大阪-2": ["Q35765"]}'
put "$P" mewslix ja json '{"東京-1": ["Q17", "Q1490"]}'
# A prediction without its label file.
put "$P" panx th tsv $'O\n'

"$STILTS" score --predictions "$P" --labels "$L" --json "$WORK/scores.json" >"$WORK/report.txt" ||
  fail "stilts score failed: $(cat "$WORK/report.txt")"
expect_lines() {
  for pattern in "$@"; do
    grep -qF -- "$pattern" "$WORK/report.txt" || fail "report lacks '$pattern': $(cat "$WORK/report.txt")"
  done
}
expect_lines "(xtreme-r, x100)" \
  "xnli: accuracy, 15 of 15 languages" \
  "  ar  Arabic          accuracy 75.00" \
  "  zh  Chinese         accuracy 100.00" \
  "  mean                accuracy 98.33  metric 98.33" \
  "  ja  Japanese        f1 80.00  precision 100.00  recall 66.67" \
  "  hi  Hindi           exact_match 100.00  f1 100.00  metric 100.00" \
  "  zh  Chinese         exact_match 0.00  f1 33.33  metric 16.67  (1 of 2 unanswered, scored 0)" \
  "  ja  Japanese        map@20 25.00  (1 of 2 unanswered, scored 0)" \
  "  classification   99.17" \
  "  multi_choice     100.00" \
  "all_task: not computed" \
  "$P/panx/test-th.tsv: no label file $L/panx/test-th.tsv" \
  "panx: 1 of 48 languages (missing"
echo "ok: text report"

$PY - "$WORK/scores.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
def near(a, b):
    assert abs(a - b) < 1e-9, (a, b)
assert s["benchmark"] == "xtreme-r"
near(s["tasks"]["xnli"]["avg_metric"], (75 + 1400) / 15)
near(s["tasks"]["xnli"]["languages"]["ar"]["accuracy"], 75)
near(s["tasks"]["xcopa"]["avg_metric"], 100)
near(s["groups"]["classification"], ((75 + 1400) / 15 + 100) / 2)
near(s["groups"]["multi_choice"], 100)
assert set(s["groups"]) == {"classification", "multi_choice"}, s["groups"]
near(s["tasks"]["mlqa"]["languages"]["zh"]["f1"], 100 / 3)
assert s["tasks"]["mlqa"]["languages"]["zh"]["unanswered"] == 1
near(s["tasks"]["mewslix"]["languages"]["ja"]["map@20"], 25)
assert s["tasks"]["panx"]["complete"] is False and len(s["tasks"]["panx"]["missing_languages"]) == 47
assert s["all_task"] is None
print("ok: json report")
PY

# The same trees under XTREME: xcopa and mewslix are no tasks of it, and without PAWS-X there is
# no classification group.
"$STILTS" score --predictions "$P" --labels "$L" --xtreme-version xtreme >"$WORK/xtreme.txt"
grep -qF "ignored $P/xcopa: not a task folder of xtreme" "$WORK/xtreme.txt" ||
  fail "xtreme report: $(cat "$WORK/xtreme.txt")"
grep -q "classification" "$WORK/xtreme.txt" && fail "xtreme has no complete classification group"
echo "ok: xtreme version"

# Bad input.
put "$P" xnli ar tsv $'entailment\n'
expect_error 1 "error: unequal numbers of lines: 1 in $P/xnli/test-ar.tsv, 4 in $L/xnli/test-ar.tsv" -- \
  "$STILTS" score --predictions "$P" --labels "$L"
put "$P" xnli ar tsv $'entailment\nneutral\nneutral\nneutral\n'
put "$L" mlqa zh json '{"data": [{"paragraphs": [{"qas": [{"id": "m1"}]}]}]}'
expect_error 1 "$L/mlqa/test-zh.json:data\[0\].paragraphs\[0\].qas\[0\].answers: missing, expected an array" -- \
  "$STILTS" score --predictions "$P" --labels "$L"
expect_error 1 "predictions folder $WORK/none does not exist" -- \
  "$STILTS" score --predictions "$WORK/none" --labels "$L"
mkdir -p "$WORK/empty"
expect_error 1 "nothing scored: no task folder of xtreme-r has both prediction and label files" -- \
  "$STILTS" score --predictions "$WORK/empty" --labels "$WORK/empty"
expect_error 2 "--xtreme-version: unknown XTREME version 'xtreme-x'" -- \
  "$STILTS" score --predictions "$P" --labels "$L" --xtreme-version xtreme-x
expect_error 2 "labels" -- "$STILTS" score --predictions "$P"
echo "PASS"
