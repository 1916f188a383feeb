# The UDHR miniature cut down: experiments/demo-udhr/run.sh on a package of two declarations
# (English and Swahili, made from the fixtures) with tests/e2e/demo_udhr_grid.ini: the test
# presets, one seed, every training stage on two ranks under mpirun, the first one killed once and
# resumed; then the checks that every stage's checkpoint, every language's results (on the held-out
# articles 21-30 alone) and the plots exist, and that a second invocation does no work. A grid
# evaluating other articles than the corpora leave out is refused first.
source "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FIXTURES=$ROOT/tests/unit/data/udhr/fixtures
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
[ -z "${MPIRUN:-}" ] || export PATH="$(dirname "$MPIRUN"):$PATH"

# A package of two declarations in the package's HTML, English and Swahili, with the preamble
# and 30 articles of one to three paragraphs (the fixtures are too short to pair paragraphs):
# each paragraph draws its words from its language's fixture, seeded by its article and number,
# so the two are aligned paragraph by paragraph as the real translations are.
mkdir -p "$WORK/package/declaration"
$PY - "$FIXTURES" "$WORK/package/declaration" <<'EOF'
import random, re, sys
fixtures, out = sys.argv[1:]
for code, fixture in (("eng", "eng.html"), ("swh", "swh_plain.html")):
    text = re.sub(r"<[^>]+>", " ", open(f"{fixtures}/{fixture}", encoding="utf-8").read())
    words = sorted(set(w for w in re.findall(r"\w+", text) if len(w) > 2))
    def paragraphs(article):
        count = 1 + article % 3
        return "".join("<p>" + " ".join(random.Random(article * 10 + p).choice(words)
                                         for _ in range(12)) + "</p>" for p in range(count))
    body = "<header><h2>Preamble</h2>" + paragraphs(0) + "</header>" + "".join(
        f'<article data-number="{a}"><h2>{a}</h2>{paragraphs(a)}</article>' for a in range(1, 31))
    with open(f"{out}/{code}.html", "w", encoding="utf-8") as f:
        f.write(f'<html data-code="{code}" data-iso6393="{code}"><body><h1>UDHR</h1>{body}</body></html>\n')
EOF
DEMO=$WORK/demo
GRID=$ROOT/tests/e2e/demo_udhr_grid.ini
demo() {
  bash "$ROOT/experiments/demo-udhr/run.sh" --stilts "$STILTS" --work "$DEMO" \
    --package "$WORK/package" --grid "$GRID" --languages "en sw" --vocab-size 400
}
RUNS=$DEMO/runs

# A grid that evaluates articles the corpora are made of is refused before anything is made.
sed 's/^articles = 21-30$/articles = 20-30/' "$ROOT/tests/e2e/demo_udhr_grid.ini" >"$WORK/leaky.ini"
GRID=$WORK/leaky.ini
expect_error 2 "evaluates the articles '20-30', expected articles = 21-30 alone" -- demo
[ ! -e "$DEMO/data/udhr.model" ] || fail "the refused grid left a tokenizer behind"
GRID=$ROOT/tests/e2e/demo_udhr_grid.ini

# An interrupted stage resumes from its latest checkpoint: rank 1 of the first training stage is
# killed at the start of step 4 (after the step-2 checkpoint), which stops the grid with that
# stage started; the next invocation resumes it at step 2 and goes on.
STILTS_INJECT_FAULT="rank=1,step=4,kind=kill" demo >"$WORK/killed.txt" 2>&1 &&
  fail "the demo went on past a killed rank: $(cat "$WORK/killed.txt")"
grep -q "stage pretrain/test-tiny failed" "$WORK/killed.txt" ||
  fail "no failed stage named: $(cat "$WORK/killed.txt")"
$PY - "$RUNS/manifest.json" <<'EOF' || fail "the killed stage is not recorded as started only"
import json, sys
stages = json.load(open(sys.argv[1]))["stages"]
assert list(stages) == ["pretrain/test-tiny"], list(stages)
assert stages["pretrain/test-tiny"]["started"] and not stages["pretrain/test-tiny"]["finished"]
EOF
[ -d "$RUNS/shared/pretrain/test-tiny/step-00000002" ] || fail "no step-2 checkpoint to resume from"
demo >"$WORK/first.txt" 2>&1 || { cat "$WORK/first.txt"; fail "the demo failed"; }
grep -q "resuming .*step-00000002 at step 2" "$RUNS/logs/pretrain__test-tiny.log" ||
  fail "the rerun did not resume the killed stage: $(cat "$RUNS/logs/pretrain__test-tiny.log")"

# Every stage finished, and each training stage left a complete checkpoint behind `latest`.
$PY - "$RUNS" <<'EOF' || fail "the manifest or a stage's output is incomplete"
import json, os, sys
runs = sys.argv[1]
stages = json.load(open(os.path.join(runs, "manifest.json")))["stages"]
kinds = {}
for sid, s in stages.items():
    assert s["finished"], f"{sid} did not finish"
    kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    if s["kind"] in ("pretrain", "intermediate", "target"):
        step = os.path.join(s["output"], open(os.path.join(s["output"], "latest")).read().strip())
        names = os.listdir(step)
        for want in ("layout.json", "trainer.json", "config.json", "model-tp00-of-01.h5"):
            assert want in names, f"{sid}: {step} lacks {want}: {names}"
# 2 models; pretraining per model, intermediate per model x 2 regimes, target and eval per run
# (2 models x 3 regimes), retrieval per pretraining or intermediate checkpoint.
want = {"pretrain": 2, "intermediate": 4, "target": 6, "eval": 6, "retrieval_eval": 6}
assert kinds == want, kinds
EOF

# Every language's results under every run, the retrieval results linked in, and the report.
for run in test-tiny test-small; do
  for regime in none english multilingual; do
    eval_dir=$RUNS/$run-$regime-udhr-pairs-s1/eval
    for f in udhr-pairs/en.json udhr-pairs/sw.json udhr-pairs/summary.json \
      udhr-align/sw.json udhr-align/summary.json; do
      [ -f "$eval_dir/$f" ] || fail "$eval_dir/$f is missing"
    done
    [ -L "$eval_dir/udhr-align" ] || fail "$eval_dir/udhr-align is no link to the shared result"
  done
done
# The evaluations read the held-out articles alone: articles 21-30 of the generated package have
# 19 paragraphs (1 + article % 3 each), hence 19 different-article and 9 same-article pairs per
# language, and 19 Swahili queries.
$PY - "$RUNS/test-small-multilingual-udhr-pairs-s1/eval" <<'PYEOF' || fail "an evaluation read other articles"
import json, sys
for name, examples in (("udhr-pairs/en", 28), ("udhr-pairs/sw", 28), ("udhr-align/sw", 19)):
    result = json.load(open(f"{sys.argv[1]}/{name}.json"))
    assert result["articles"] == "21-30", (name, result.get("articles"))
    assert result["examples"] == examples, (name, result["examples"])
PYEOF
for f in report.md report.csv; do [ -s "$RUNS/report/$f" ] || fail "report/$f is missing"; done
pngs=$(ls "$RUNS/report/plots/"*.png | wc -l)
svgs=$(ls "$RUNS/report/plots/"*.svg | wc -l)
[ "$pngs" -ge 2 ] && [ "$pngs" -eq "$svgs" ] || fail "plots: $pngs PNG and $svgs SVG files"
grep -q "udhr-pairs" "$RUNS/report/report.md" || fail "the report has no udhr-pairs table"
grep -q "evaluation: 21-30" "$RUNS/report/report.md" || fail "the report does not say which articles were evaluated"
grep -q "Small-model numbers" "$RUNS/report/report.md" || fail "the report does not say its numbers are small-model numbers"
grep -q "Niger-Congo" "$RUNS/report/report.md" || fail "the report has no row for Swahili's family"
# The study's quantity: ML - EN per size and its interaction across the two sizes, with the
# one-language family flagged and Swahili (in the multilingual mix) reported as seen.
grep -q "ML − EN across model sizes" "$RUNS/report/report.md" ||
  fail "the report has no ML - EN table across sizes"
grep -q "| interaction | slope | resampled |" "$RUNS/report/report.md" ||
  fail "the ML - EN table has no interaction column"
grep -q "1 ⚠ one language (sw)" "$RUNS/report/report.md" ||
  fail "the one-language family is not flagged"
grep -q "| seen (in the multilingual mix) | 1" "$RUNS/report/report.md" ||
  fail "Swahili is not reported as seen in the multilingual mix"
grep -q "interaction" "$RUNS/report/transfer.csv" || fail "transfer.csv has no interaction line"
grep -Eq "(shared|logs): no run.json" "$RUNS/report/report.md" &&
  fail "the report lists stilts experiment's own folders as runs left out"

# A second invocation does no work: no stage runs, and no corpus, checkpoint or result changes
# (the report is written again, and run.sh copies the grid beside the data each time).
cp "$RUNS/manifest.json" "$WORK/manifest-before.json"
sleep 1
demo >"$WORK/second.txt" 2>&1 || { cat "$WORK/second.txt"; fail "the second demo run failed"; }
grep -q "nothing to do: all 24 stages of grid demo-udhr-test have finished" "$WORK/second.txt" ||
  fail "the second run did work: $(cat "$WORK/second.txt")"
cmp -s "$RUNS/manifest.json" "$WORK/manifest-before.json" || fail "the second run changed the manifest"
changed=$(cd "$DEMO" && find . -path ./runs/report -prune -o -type f -newer "$WORK/manifest-before.json" \
  ! -name grid.ini -print)
[ -z "$changed" ] || fail "the second run rewrote: $changed"
echo "ok: the cut-down UDHR miniature ran on held-out articles, reported, and a second invocation did nothing"
