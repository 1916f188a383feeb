# The embedded demo cut down (Roadmap 9's proof): experiments/demo/run.sh with its own grid on a
# smaller synthetic study (smaller test sets) and one size, demo-tiny: every regime, two seeds.
# Then: the report's checks are computed from the run's own results (each point estimate
# recomputed here from the per-example files, each verdict from its interval and rule); a planted
# broken evaluation (the test labels shuffled, so every prediction is scored against another
# example's label) turns the checks to FAIL; a second invocation does no work.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DEMO=$WORK/demo
RUNS=$DEMO/runs
SYNTH="--target-dev 200 --target-test 600 --align-sentences 200"
demo() {
  bash "$ROOT/experiments/demo/run.sh" --stilts "$STILTS" --work "$DEMO" --models demo-tiny \
    --synth "$SYNTH"
}
demo >"$WORK/first.txt" 2>&1 || { cat "$WORK/first.txt"; fail "the demo failed"; }
sed -n '/^## Checks/,/^## Method/p' "$RUNS/report/report.md"
grep -q "Each stage learned its task" "$RUNS/report/report.md" ||
  fail "the report does not give each stage's English dev accuracy"
for f in report.md report.html report.csv transfer.csv; do
  [ -s "$RUNS/report/$f" ] || fail "report/$f is missing"
done

# checks_agree REPORT RUNS: every check line of REPORT is recomputed from the per-example files
# under RUNS (the mean over seeds, then over the group's languages, then over examples, of each
# regime; the study's languages from the synthetic table: aa and ba in the mix, ab and bb held
# out, ei English's identity), and its verdict must follow from its interval and rule. Prints
# "check model verdict" per line.
checks_agree() {
  $PY - "$1" "$2" <<'PYEOF'
import csv, glob, json, os, re, sys
report, runs = sys.argv[1:]
cells = {}
for path in glob.glob(os.path.join(runs, "*", "run.json")):
    run = json.load(open(path))
    folder = os.path.join(os.path.dirname(path), "eval", run["task"])
    scores = {}
    for f in glob.glob(os.path.join(folder, "*.examples.tsv")):
        rows = list(csv.DictReader(open(f), delimiter="\t"))
        scores[os.path.basename(f).split(".")[0]] = sum(float(r["score"]) for r in rows) / len(rows)
    cells.setdefault((run["model"], run["regime"]), []).append(scores)
def mean(xs): return sum(xs) / len(xs)
def cell(model, regime, langs):
    return mean([mean([s[l] for l in langs]) for s in cells[(model, regime)]])
def d(model, regime, langs): return cell(model, regime, langs) - cell(model, "english", langs)
mix, held = ["aa", "ba"], ["ab", "bb"]
text = open(report).read().split("## Checks")[1].split("\n## Method")[0]
lines = re.findall(r"^- (PASS|\*\*FAIL\*\*) ([a-z -]+), synth-topic, ([a-z-]+): .* = "
                   r"([+-][0-9.]+) \[([+-][0-9.]+), ([+-][0-9.]+)\]", text, re.M)
assert len(lines) == 4, f"expected the 4 checks of demo-tiny, got {len(lines)}:\n{text}"
for verdict, check, model, value, low, high in lines:
    value, low, high = float(value), float(low), float(high)
    if check == "positive control":
        want, passes = d(model, "multilingual", mix), low > 0
    elif check == "negative control":
        want, passes = d(model, "shuffled", mix), low <= 0
    elif check == "identity":
        regimes = [r for (m, r) in cells if m == model]
        want = mean([cell(model, r, ["ei"]) - cell(model, r, ["en"]) for r in regimes])
        passes = low >= -2 and high <= 2
    elif check == "held-out":
        want, passes = d(model, "multilingual", mix) - d(model, "multilingual", held), low > 0
    else:
        raise AssertionError(f"unknown check {check}")
    assert abs(want - value) < 0.006, f"{check} {model}: the report says {value}, the files {want}"
    assert low <= value <= high, f"{check} {model}: {value} outside [{low}, {high}]"
    assert (verdict == "PASS") == passes, f"{check} {model}: {verdict} but [{low}, {high}]"
    print(check, model, "PASS" if passes else "FAIL")
PYEOF
}
checks_agree "$RUNS/report/report.md" "$RUNS" >"$WORK/verdicts.txt" ||
  fail "the checks do not follow from the runs' results"
cat "$WORK/verdicts.txt"
# The controlled study at this size already shows its effect: the multilingual mix's languages
# gain, and more than the held-out ones (what a broken evaluation must turn to FAIL below).
for check in "positive control" "held-out"; do
  grep -q "^$check demo-tiny PASS" "$WORK/verdicts.txt" ||
    fail "the cut-down study does not pass its $check check (experiments/demo/grid.ini)"
done

# A broken evaluation: the study's test labels shuffled within each language, each language
# apart, and every run's target checkpoint evaluated again on them (stilts eval, as the grid
# runs it), into a copy of the runs folder.
BROKEN=$WORK/broken
cp -r "$DEMO/study" "$BROKEN-study"
$PY - "$BROKEN-study/topic" <<'PYEOF'
import glob, random, sys
for path in sorted(glob.glob(sys.argv[1] + "/test-*.tsv")):
    rows = [line.rstrip("\n").split("\t") for line in open(path, encoding="utf-8")]
    labels = [r[2] for r in rows]
    random.Random(path.rsplit("-", 1)[1]).shuffle(labels)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{r[0]}\t{r[1]}\t{label}\n" for r, label in zip(rows, labels))
PYEOF
for run in "$RUNS"/*/run.json; do
  dir=$(dirname "$run") && id=$(basename "$dir")
  mkdir -p "$BROKEN/$id" && cp "$run" "$BROKEN/$id/"
  "$STILTS" eval --checkpoint "$dir/target" --tokenizer "$DEMO/data/study.model" \
    --task synth-topic --data "$BROKEN-study" --split test --langs all \
    --languages "$DEMO/study/languages.tsv" --batch 128 --out "$BROKEN/$id/eval" \
    >"$WORK/broken-eval.txt" 2>&1 || { cat "$WORK/broken-eval.txt"; fail "eval on broken labels"; }
done
"$STILTS" report "$BROKEN" --languages "$DEMO/study/languages.tsv" --checks \
  --identity-language ei >"$WORK/broken-report.txt" 2>&1 ||
  { cat "$WORK/broken-report.txt"; fail "the report of the broken evaluation failed"; }
sed -n '/^## Checks/,/^## Method/p' "$BROKEN/report/report.md"
checks_agree "$BROKEN/report/report.md" "$BROKEN" >"$WORK/broken-verdicts.txt" ||
  fail "the broken evaluation's checks do not follow from its results"
for check in "positive control" "held-out"; do
  grep -q "^$check demo-tiny FAIL" "$WORK/broken-verdicts.txt" ||
    fail "the broken evaluation passes the $check check"
done
grep -q "checks: [0-9]* PASS, [1-9][0-9]* FAIL" "$WORK/broken-report.txt" ||
  fail "stilts report does not count the failed checks: $(cat "$WORK/broken-report.txt")"

# A second invocation does no work: no stage runs again.
cp "$RUNS/manifest.json" "$WORK/manifest-before.json"
demo >"$WORK/second.txt" 2>&1 || { cat "$WORK/second.txt"; fail "the second demo run failed"; }
grep -q "nothing to do: all 25 stages of grid demo have finished" "$WORK/second.txt" ||
  fail "the second run did work: $(cat "$WORK/second.txt")"
cmp -s "$RUNS/manifest.json" "$WORK/manifest-before.json" || fail "the second run changed the manifest"
echo "ok: the cut-down controlled study ran; its checks follow from its results, and a broken evaluation fails them"
