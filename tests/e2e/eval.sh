#!/usr/bin/env bash
# stilts eval: a tiny trained model over fixture data in the XTREME download layout, in four
# scripts (Latin, Devanagari, Han, Arabic): XNLI (rank classification over the label words),
# XCOPA (rank classification over each example's choices), XQuAD (greedy decoding of the answer)
# and UD-POS (greedy decoding of the tags, aligned to the tokens); the retrieval tasks Tatoeba,
# LAReQA (a pool over the XQuAD-R files), Mewsli-X (candidate entities, the mentions' entity
# ids) and BUCC (a threshold chosen on dev, a missing dev file refused); a language without its
# split's file skipped and counted; the test split on the labeled originals (XNLI-1.0's file of
# every language, a folder of UD treebanks, Mewsli-X's release file), a missing one named with
# where it comes from; the UDHR demo's udhr-article
# (rank classification over the 31 article numbers) and udhr-align (each paragraph's English
# one, a paragraph without one counted) on the reader's fixture declarations. Each run ends with a results
# file per language whose scores `stilts score` reproduces from the written prediction and label
# files, and a summary with the task mean and the per-family means; a second run skips every
# language and --force redoes them; bad input exits with a message naming the problem.
source "$(dirname "$0")/lib.sh"

DATA="$WORK/download"
$PY - "$DATA" <<'PY'
import csv, json, os, sys
root = sys.argv[1]
def tsv(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter="\t").writerows(rows)
xnli = {
    "en": [("The cat sleeps on the mat.", "A cat is sleeping.", "entailment"),
           ("He bought a red car.", "He owns no car.", "contradiction"),
           ("She reads every night.", "She likes novels.", "neutral")],
    "hi": [("बिल्ली चटाई पर सोती है।", "एक बिल्ली सो रही है।", "entailment"),
           ("उसने लाल कार खरीदी।", "उसके पास कोई कार नहीं है।", "contradiction")],
    "zh": [("猫在垫子上睡觉。", "一只猫在睡觉。", "entailment"),
           ("他买了一辆红色的车。", "他没有车。", "contradiction"),
           ("她每天晚上读书。", "她喜欢小说。", "neutral")],
    "ar": [("القطة تنام على السجادة.", "قطة نائمة.", "entailment"),
           ("اشترى سيارة حمراء.", "ليس لديه سيارة.", "contradiction")],
}
for lang, rows in xnli.items():
    tsv(f"{root}/xnli/dev-{lang}.tsv", rows)
# XNLI-1.0's labeled test file, every language in one file with a header naming 19 columns.
columns = ["language", "gold_label", "sentence1_binary_parse", "sentence2_binary_parse",
           "sentence1_parse", "sentence2_parse", "sentence1", "sentence2", "promptID", "pairID",
           "genre", "label1", "label2", "label3", "label4", "label5", "sentence1_tokenized",
           "sentence2_tokenized", "match"]
def xnli_row(lang, premise, hypothesis, label):
    row = dict.fromkeys(columns, "")
    row.update(language=lang, gold_label=label, sentence1=premise, sentence2=hypothesis)
    return [row[c] for c in columns]
os.makedirs(f"{root}/xnli/original/XNLI-1.0", exist_ok=True)
with open(f"{root}/xnli/original/XNLI-1.0/xnli.test.tsv", "w", encoding="utf-8") as f:
    for row in [columns] + [xnli_row("zh", *xnli["zh"][2]), xnli_row("en", *xnli["en"][0]),
                            xnli_row("zh", *xnli["zh"][0]), xnli_row("en", *xnli["en"][1])]:
        f.write("\t".join(row) + "\n")

def squad(path, items):
    paragraphs = []
    for i, (context, question, answer) in enumerate(items):
        paragraphs.append({"context": context, "qas": [{
            "id": f"{os.path.basename(path)}-{i}", "question": question,
            "answers": [{"text": answer, "answer_start": context.index(answer)}]}]})
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}, f,
                  ensure_ascii=False)
squad(f"{root}/xquad/xquad.en.json",
      [("The cat sleeps on the mat.", "Where does the cat sleep?", "on the mat"),
       ("He bought a red car.", "What did he buy?", "a red car")])
squad(f"{root}/xquad/xquad.hi.json",
      [("बिल्ली चटाई पर सोती है।", "बिल्ली कहाँ सोती है?", "चटाई पर")])

os.makedirs(f"{root}/xcopa", exist_ok=True)
with open(f"{root}/xcopa/val-zh.jsonl", "w", encoding="utf-8") as f:
    for i, (premise, q, c1, c2, label) in enumerate([
            ("我的身体投下了影子。", "cause", "太阳升起来了。", "草被割了。", 0),
            ("女人哭了。", "cause", "她很开心。", "她很难过。", 1)]):
        f.write(json.dumps({"premise": premise, "choice1": c1, "choice2": c2, "question": q,
                            "label": label, "idx": i + 1, "changed": False},
                           ensure_ascii=False) + "\n")

def tags(path, sentences):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for sentence in sentences:
            for token, tag in sentence:
                f.write(f"{token}\t{tag}\n")
            f.write("\n")
tags(f"{root}/udpos/dev-en.tsv", [[("The", "DET"), ("cat", "NOUN"), ("sleeps", "VERB")],
                                  [("He", "PRON"), ("runs", "VERB")]])
tags(f"{root}/udpos/dev-ar.tsv", [[("القطة", "NOUN"), ("تنام", "VERB")]])
tags(f"{root}/panx/dev-ar.tsv", [[("محمد", "B-PER"), ("في", "O"), ("القاهرة", "B-LOC")]])
# A UD treebank's test file, read from the language's folder of treebanks: "gonna" is one token
# tagged as its head word "gon".
os.makedirs(f"{root}/udpos/original/en", exist_ok=True)
with open(f"{root}/udpos/original/en/en_ewt-ud-test.conllu", "w", encoding="utf-8") as f:
    f.write("# text = I'm gonna go.\n")
    for word in [("3-4", "gonna", "_", "_", "_"), ("1", "I", "PRON", "3", "nsubj"),
                 ("2", "'m", "AUX", "3", "aux"), ("3", "gon", "VERB", "0", "root"),
                 ("4", "na", "PART", "5", "mark"), ("5", "go", "VERB", "3", "xcomp")]:
        i, form, upos, head, rel = word
        deps = "_" if head == "_" else f"{head}:{rel}"
        f.write("\t".join([i, form, "_", upos, "_", "_", head, rel, deps, "_"]) + "\n")
    f.write("\n")
tags(f"{root}/panx/dev-en.tsv", [[("Rick", "B-PER"), ("Astley", "I-PER"), ("sings", "O")]])

tsv(f"{root}/pawsx/dev-en.tsv", [("The cat sleeps.", "The cat is asleep.", "1"),
                                 ("He bought a car.", "He sold a car.", "0")])
tsv(f"{root}/pawsx/dev-zh.tsv", [("猫在睡觉。", "猫睡着了。", "1")])
def lines(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(row + "\n" for row in rows)
# Tatoeba as LASER ships it: line i of tatoeba.{xxx}-eng.{xxx} translates line i of .eng.
for code, sentences, english in [
        ("hin", ["उसने लाल कार खरीदी।", "बिल्ली सोती है।", "वह हर रात पढ़ती है।"],
         ["He bought a red car.", "The cat sleeps.", "She reads every night."]),
        ("cmn", ["她每天晚上读书。", "猫在睡觉。", "他买了一辆红色的车。"],
         ["She reads every night.", "The cat sleeps.", "He bought a red car."])]:
    lines(f"{root}/tatoeba/v1/tatoeba.{code}-eng.{code}", sentences)
    lines(f"{root}/tatoeba/v1/tatoeba.{code}-eng.eng", english)
squad(f"{root}/mlqa/MLQA_V1/dev/dev-context-zh-question-zh.json",
      [("猫在垫子上睡觉。", "猫在哪里睡觉？", "垫子上")])
squad(f"{root}/tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.ar.dev.json",
      [("القطة تنام على السجادة.", "أين تنام القطة؟", "على السجادة")])
# XTREME's copy of TyDi QA's dev set, which also serves as its test set: answers blanked.
with open(f"{root}/tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.sw.dev.json", "w") as f:
    json.dump({"version": "1.1", "data": [{"paragraphs": [{"context": "Paka analala.", "qas": [
        {"id": "swahili-1-0", "question": "Nani analala?",
         "answers": [{"answer_start": 0, "text": ""}]}]}]}]}, f)

# LAReQA (XQuAD-R): shared question ids across languages, sentence_breaks per paragraph.
def xquad_r(lang, paragraphs):
    data = []
    for p, (sentences, questions) in enumerate(paragraphs):
        context, breaks = "", []
        for sentence in sentences:
            if context:
                context += " "
            breaks.append([len(context), len(context) + len(sentence)])
            context += sentence
        qas = [{"id": qid, "question": question,
                "answers": [{"text": sentences[s], "answer_start": breaks[s][0]}]}
               for qid, question, s in questions]
        data.append({"title": f"t{p}", "paragraphs": [
            {"context": context, "sentence_breaks": breaks, "qas": qas}]})
    os.makedirs(f"{root}/lareqa/xquad-r", exist_ok=True)
    with open(f"{root}/lareqa/xquad-r/{lang}.json", "w", encoding="utf-8") as f:
        json.dump({"version": "1.1", "data": data}, f, ensure_ascii=False)
xquad_r("en", [(["The cat sleeps on the mat.", "He bought a red car."],
                [("q1", "Where does the cat sleep?", 0), ("q2", "What did he buy?", 1)]),
               (["She reads every night."], [("q3", "When does she read?", 0)])])
xquad_r("zh", [(["猫在垫子上睡觉。", "他买了一辆红色的车。"],
                [("q1", "猫在哪里睡觉？", 0), ("q2", "他买了什么？", 1)]),
               (["她每天晚上读书。"], [("q3", "她什么时候读书？", 0)])])
xquad_r("ar", [(["القطة تنام على السجادة.", "اشترى سيارة حمراء."],
                [("q1", "أين تنام القطة؟", 0), ("q2", "ماذا اشترى؟", 1)]),
               (["تقرأ كل ليلة."], [("q3", "متى تقرأ؟", 0)])])

# Mewsli-X: mentions in context, the candidate entities, the labels {example_id: [QID]}.
def jsonl(path, records):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
jsonl(f"{root}/mewslix/candidate_set_entities.jsonl", [
    {"entity_id": qid, "title": title, "description": text,
     "sentence_spans": [{"start": 0, "end": len(text)}], "description_language": "en",
     "description_url": "u"}
    for qid, title, text in [("Q1", "Cat", "The cat is a small domestic animal."),
                             ("Q2", "Car", "A car is a motor vehicle with wheels."),
                             ("Q3", "Night", "Night is the time when the sun is down.")]])
def mentions(lang, items):
    records = []
    for i, (text, mention, qid) in enumerate(items):
        start = text.index(mention)
        records.append({"context": {"text": text, "language": lang, "document_title": "d",
                                    "sentence_spans": [{"start": 0, "end": len(text)}]},
                        "mentions": [{"example_id": f"{lang}-{i}", "entity_id": qid,
                                      "mention_span": {"start": start,
                                                       "end": start + len(mention),
                                                       "text": mention}}]})
    jsonl(f"{root}/mewslix/wikinews_mentions/dev-{lang}.jsonl", records)
    return records
english = mentions("en", [("The cat sleeps on the mat.", "cat", "Q1"),
                          ("He bought a red car.", "car", "Q2"),
                          ("She reads every night.", "night", "Q3")])
arabic = mentions("ar", [("القطة تنام على السجادة.", "القطة", "Q1"),
                         ("اشترى سيارة حمراء.", "سيارة", "Q2")])
# The release's test file as get-mewsli-x.sh writes it: every language, entity ids kept.
jsonl(f"{root}/mewslix/original/wikinews_mentions-test.jsonl", arabic + english[:2])

# BUCC 2018: {xx}-en.{split}.{xx} and .en ("id<TAB>sentence"), {xx}-en.{split}.gold.
def bucc(lang, split, sources, english, gold):
    tsv(f"{root}/bucc2018/{lang}-en.{split}.{lang}", sources)
    tsv(f"{root}/bucc2018/{lang}-en.{split}.en", english)
    tsv(f"{root}/bucc2018/{lang}-en.{split}.gold", gold)
en_rows = [("en-1", "The cat sleeps."), ("en-2", "He bought a red car."),
           ("en-3", "She reads every night."), ("en-4", "The weather is cold.")]
bucc("de", "dev", [("de-1", "Die Katze schläft."), ("de-2", "Er kaufte ein rotes Auto."),
                   ("de-3", "Heute ist Montag.")], en_rows, [("de-1", "en-1"), ("de-2", "en-2")])
bucc("zh", "dev", [("zh-1", "猫在睡觉。"), ("zh-2", "她每天晚上读书。")], en_rows,
     [("zh-1", "en-1"), ("zh-2", "en-3")])
bucc("zh", "test", [("zh-7", "他买了一辆红色的车。"), ("zh-8", "天气很冷。")], en_rows,
     [("zh-7", "en-2"), ("zh-8", "en-4")])
# A test split without its dev split.
bucc("fr", "test", [("fr-1", "Le chat dort.")], en_rows, [("fr-1", "en-1")])
PY

# A tokenizer on the English fixture text (320 pieces leave no room for the other scripts'
# characters: byte fallback spells them) and a test-tiny model (vocabulary 320) trained for a
# few steps.
for _ in 1 2 3 4 5 6; do cat "$DATA"/xnli/dev-en.tsv "$DATA"/xquad/xquad.en.json; done >"$WORK/text.txt"
"$STILTS" tokenizer train --input "$WORK/text.txt" --model-prefix "$WORK/tok" --vocab-size 320 \
  --extra-ids 10 --character-coverage 0.98 >/dev/null
"$STILTS" train --model test-tiny --task copy --steps 20 --batch 8 --eval-batches 0 \
  --run-dir "$WORK/run" --log-every 10 >/dev/null

OUT="$WORK/results"
any_split() {
  "$STILTS" eval --checkpoint "$WORK/run" --tokenizer "$WORK/tok.model" --extra-ids 10 \
    --data "${EVAL_DATA:-$DATA}" --batch 2 "$@"
}
ev() { any_split --split dev --out "$OUT" "$@"; }

ev --task xnli --langs en,hi,zh,ar >"$WORK/xnli.txt" 2>"$WORK/xnli.err"
cat "$WORK/xnli.txt"
grep -q "en: 3/3 examples, .* examples/s" "$WORK/xnli.err" || fail "no progress line: $(cat "$WORK/xnli.err")"
for lang in en hi zh ar; do
  [ -f "$OUT/xnli/$lang.json" ] || fail "no result for $lang"
  [ -f "$OUT/predictions/xnli/test-$lang.tsv" ] || fail "no prediction file for $lang"
  [ -f "$OUT/labels/xnli/test-$lang.tsv" ] || fail "no label file for $lang"
done
[ -f "$OUT/xnli/summary.md" ] || fail "no summary.md"
# The f32 residual stream is the CPU's own arithmetic: --fp32-residual predicts the same.
any_split --split dev --out "$WORK/fp32_residual" --task xnli --langs en --fp32-residual \
  >/dev/null 2>"$WORK/fp32_residual.err"
cmp -s "$OUT/predictions/xnli/test-en.tsv" "$WORK/fp32_residual/predictions/xnli/test-en.tsv" ||
  fail "--fp32-residual changed the CPU's xnli predictions"

# The results agree with `stilts score` over the written files, and the summary's means with the
# results and the language table's families.
check() {
  local task=$1 version=xtreme-r
  shift
  case $task in
    pawsx | bucc2018) version=xtreme ;;  # not XTREME-R tasks
    udhr-*) version=udhr ;;
  esac
  "$STILTS" score --predictions "$OUT/predictions" --labels "$OUT/labels" \
    --xtreme-version "$version" --json "$WORK/score.json" >/dev/null
  $PY - "$OUT" "$task" "$WORK/score.json" "$@" <<'PY' || fail "$task results are inconsistent"
import json, math, os, sys
out, task, score_file, langs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
score = json.load(open(score_file))["tasks"][task]
family = {"en": "Indo-European", "hi": "Indo-European", "zh": "Sino-Tibetan",
          "ar": "Afro-Asiatic", "de": "Indo-European", "sw": "Niger-Congo"}
summary = json.load(open(f"{out}/{task}/summary.json"))
values, by_family = [], {}
for lang in langs:
    r = json.load(open(f"{out}/{task}/{lang}.json"))
    assert r["language"] == lang and r["examples"] > 0 and r["examples_per_second"] > 0, r
    assert 0 <= r["score"] <= 100 and r["unanswered"] == 0, r
    official = score["languages"][lang]
    for metric, value in r["metrics"].items():
        assert math.isclose(official[metric], value), (lang, metric, official, r)
    assert math.isclose(summary["languages"][lang], r["score"]), (summary, r)
    # Per-example scores beside the result where the headline is a mean over examples, none for
    # the corpus-level metrics (seqeval chunk F1, BUCC F1).
    examples = f"{out}/{task}/{lang}.examples.tsv"
    if task in ("udpos", "panx", "bucc2018"):
        assert not os.path.exists(examples) and "examples_file" not in r, (examples, r)
    else:
        rows = [line.rstrip("\n").split("\t") for line in open(examples, encoding="utf-8")]
        assert rows[0] == ["id", "score"] and len(rows) > 1, rows
        mean = sum(float(s) for _, s in rows[1:]) / (len(rows) - 1)
        assert math.isclose(mean, r["score"], rel_tol=1e-9, abs_tol=1e-9), (examples, mean, r)
    values.append(r["score"])
    by_family.setdefault(family[lang], []).append(r["score"])
assert math.isclose(summary["mean"], sum(values) / len(values)), summary
families = {f["family"]: f for f in summary["families"]}
assert sorted(families) == sorted(by_family), (families, by_family)
for name, scores in by_family.items():
    assert math.isclose(families[name]["mean"], sum(scores) / len(scores)), (name, families)
print(task, "summary:", summary["mean"], {k: v["mean"] for k, v in families.items()})
PY
}
check xnli en hi zh ar
[ "$(wc -l <"$OUT/predictions/xnli/test-zh.tsv")" -eq 3 ] || fail "zh predictions are not 3 lines"
grep -qvE '^(entailment|neutral|contradiction)$' "$OUT/predictions/xnli/test-en.tsv" &&
  fail "an XNLI prediction is not a label word"

# A second run skips every language; --force redoes them.
before=$(stat -c %Y.%s "$OUT/xnli/hi.json")
ev --task xnli --langs en,hi,zh,ar >"$WORK/again.txt" 2>/dev/null
[ "$(grep -c "skipped, already scored" "$WORK/again.txt")" -eq 4 ] ||
  fail "the second run did not skip every language: $(cat "$WORK/again.txt")"
[ "$(stat -c %Y.%s "$OUT/xnli/hi.json")" = "$before" ] || fail "a skipped result was rewritten"
ev --task xnli --langs en,hi,zh,ar --force >"$WORK/forced.txt" 2>/dev/null
grep -q "skipped" "$WORK/forced.txt" && fail "--force skipped a language: $(cat "$WORK/forced.txt")"
[ "$(grep -c "accuracy" "$WORK/forced.txt")" -eq 4 ] || fail "--force did not redo every language"

ev --task xcopa --langs zh >"$WORK/xcopa.txt" 2>/dev/null
grep -q '"label"' "$OUT/predictions/xcopa/test-zh.jsonl" || fail "no XCOPA predictions"
check xcopa zh
grep -q '"choice_score": "summed log-likelihood"' "$OUT/xcopa/zh.json" || fail "the XCOPA choice score is not reported"
ev --task xcopa --langs zh --force --length-normalize >/dev/null 2>&1 || fail "xcopa --length-normalize failed"
grep -q '"choice_score": "log-likelihood per target token' "$OUT/xcopa/zh.json" ||
  fail "--length-normalize is not reported"

ev --task xquad --langs en,hi --max-length 8 >"$WORK/xquad.txt" 2>/dev/null
cat "$WORK/xquad.txt"
check xquad en hi
$PY -c 'import json,sys; a=json.load(open(sys.argv[1]))["accidental_translation"]; assert set(a)=={"en","hi"} and a["hi"]["script"]=="Deva", a' \
  "$OUT/xquad/summary.json" || fail "the summary lacks accidental translation per language"
any_split --task xquad --langs en,hi --split dev --max-length 4 --max-input-len 8 \
  --out "$WORK/truncated" >/dev/null 2>&1 || fail "xquad with --max-input-len failed"
grep -q '"inputs_truncated": 2' "$WORK/truncated/xquad/en.json" || fail "truncated inputs not counted"
[ ! -e "$WORK/truncated/.scoring" ] || fail "the scoring scratch folder was left behind"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert set(d)=={"xquad.en.json-0","xquad.en.json-1"}, d' \
  "$OUT/predictions/xquad/test-en.json" || fail "XQuAD predictions lack question ids"

ev --task udpos --langs en,ar --max-length 12 >"$WORK/udpos.txt" 2>/dev/null
check udpos en ar
[ "$(grep -c . "$OUT/predictions/udpos/test-en.tsv")" -eq 5 ] || fail "UD-POS predictions are not one tag per token"
grep -q '"tag_decoding"' "$OUT/udpos/en.json" || fail "the tag decoding is not reported"
# A language without its dev file (UD-POS has no dev split in several) is skipped and counted.
any_split --task udpos --split dev --langs en,he --max-length 12 --out "$WORK/skip" \
  >"$WORK/skip.txt" 2>/dev/null || fail "udpos with a language lacking its dev file failed"
grep -q "udpos he: skipped, no dev file .*/udpos/dev-he.tsv" "$WORK/skip.txt" ||
  fail "the skipped language is not reported: $(cat "$WORK/skip.txt")"
grep -q '"skipped_count": 1' "$WORK/skip/udpos/summary.json" ||
  fail "the summary does not count the skipped language"

ev --task panx --langs en,ar --max-length 8 >/dev/null 2>&1 || fail "panx failed"
check panx en ar
grep -qvE '^(O|[BI]-(PER|ORG|LOC)|)$' "$OUT/predictions/panx/test-ar.tsv" &&
  fail "a PAN-X prediction is not a tag: $(cat "$OUT/predictions/panx/test-ar.tsv")"
ev --task pawsx --langs en,zh >/dev/null 2>&1 || fail "pawsx failed"
check pawsx en zh
grep -qvE '^[01]$' "$OUT/predictions/pawsx/test-en.tsv" && fail "a PAWS-X prediction is not 0 or 1"
ev --task mlqa --langs zh --max-length 8 >/dev/null 2>&1 || fail "mlqa failed"
check mlqa zh
ev --task tydiqa --langs ar --max-length 8 >/dev/null 2>&1 || fail "tydiqa failed"
check tydiqa ar
ev --task tatoeba --langs hi,zh --layer 1 >"$WORK/tatoeba.txt" 2>&1 || fail "tatoeba failed"
check tatoeba hi zh
grep -q '"retrieval_layer": 1' "$OUT/tatoeba/hi.json" || fail "the retrieval layer is not reported"
grep -q '"examples": 3,' "$OUT/tatoeba/hi.json" || fail "tatoeba examples are not the 3 queries"
grep -qvE '^[0-2]$' "$OUT/predictions/tatoeba/test-zh.tsv" && fail "a Tatoeba prediction is no index"
expect_error 2 "--layer: 9 is past the encoder's 2 layers" -- ev --task tatoeba --langs hi --force --layer 9

# LAReQA: the questions of each language against the answer sentences of all three files.
ev --task lareqa --langs en,zh --layer 1 >"$WORK/lareqa.txt" 2>&1 || fail "lareqa failed: $(cat "$WORK/lareqa.txt")"
check lareqa en zh
$PY - "$OUT" <<'PY' || fail "lareqa predictions or labels are wrong"
import json, sys
out = sys.argv[1]
p = json.load(open(f"{out}/predictions/lareqa/test-zh.json"))
g = json.load(open(f"{out}/labels/lareqa/test-zh.json"))
assert sorted(p) == ["q1", "q2", "q3"] and all(len(v) == 9 for v in p.values()), p
assert g["q1"] == ["ar_1_0", "en_1_0", "zh_1_0"], g
r = json.load(open(f"{out}/lareqa/en.json"))
assert r["notes"]["candidates"] == 9 and r["notes"]["candidate_pool_languages"] == ["ar", "en", "zh"], r
PY

# Mewsli-X: each mention against the candidate entities, labels the mentions' entity ids.
ev --task mewslix --langs en,ar --layer 1 >"$WORK/mewslix.txt" 2>&1 || fail "mewslix failed: $(cat "$WORK/mewslix.txt")"
check mewslix en ar
$PY -c 'import json,sys; p=json.load(open(sys.argv[1])); assert sorted(p)==["ar-0","ar-1"] and all(sorted(v)==["Q1","Q2","Q3"] for v in p.values()), p' \
  "$OUT/predictions/mewslix/test-ar.json" || fail "Mewsli-X predictions are not ranked QIDs"

# BUCC: the threshold chosen on dev, the mined pairs written as "src<TAB>trg".
ev --task bucc2018 --langs de,zh --layer 1 >"$WORK/bucc.txt" 2>&1 || fail "bucc2018 failed: $(cat "$WORK/bucc.txt")"
check bucc2018 de zh
grep -q '"threshold"' "$OUT/bucc2018/de.json" || fail "the BUCC threshold is not reported"
grep -qvE '^de-[0-9]	en-[0-9]$' "$OUT/predictions/bucc2018/test-de.tsv" && fail "a BUCC prediction is no id pair"
any_split --task bucc2018 --langs zh --split test --layer 1 --out "$WORK/bucc-test" >/dev/null 2>&1 ||
  fail "bucc2018 on the test split failed"
grep -q '"threshold_file": ".*zh-en.dev.zh"' "$WORK/bucc-test/bucc2018/zh.json" ||
  fail "the test threshold does not come from dev"
expect_error 1 "missing dev file .*bucc2018/fr-en.dev.fr" -- \
  any_split --task bucc2018 --langs fr --split test --layer 1 --out "$WORK/bucc-fr"

# The test split reads the labeled originals: XNLI-1.0's one file of every language, a
# language's folder of UD treebanks, Mewsli-X's release file. A language without its original is
# skipped with a reason that says where it comes from; no language having one is an error.
DEV_OUT=$OUT
OUT="$WORK/test-results"
tst() { any_split --split test --out "$OUT" "$@"; }
tst --task xnli --langs en,zh >"$WORK/xnli-test.txt" 2>&1 ||
  fail "xnli on the test split failed: $(cat "$WORK/xnli-test.txt")"
check xnli en zh
grep -q '"data_file": ".*/xnli/original/XNLI-1.0/xnli.test.tsv"' "$OUT/xnli/zh.json" ||
  fail "the XNLI test split does not read XNLI-1.0's file"
[ "$(tr '\n' ' ' <"$OUT/labels/xnli/test-zh.tsv")" = "neutral entailment " ] ||
  fail "the XNLI test labels are not zh's rows in the file's order"
tst --task udpos --langs en,he --max-length 12 >"$WORK/udpos-test.txt" 2>/dev/null ||
  fail "udpos on the test split failed"
grep -q "udpos he: skipped, no labeled test original .*/udpos/original/he (experiments/data/download.sh fetches it" \
  "$WORK/udpos-test.txt" || fail "the missing original is not named: $(cat "$WORK/udpos-test.txt")"
check udpos en
[ "$(cat "$OUT/labels/udpos/test-en.tsv")" = "$(printf 'PRON\nAUX\nVERB\nVERB')" ] ||
  fail "the UD-POS test labels are not the treebank's, 'gonna' one token: $(cat "$OUT/labels/udpos/test-en.tsv")"
tst --task mewslix --langs en,ar --layer 1 >"$WORK/mewslix-test.txt" 2>&1 ||
  fail "mewslix on the test split failed: $(cat "$WORK/mewslix-test.txt")"
check mewslix en ar
$PY -c 'import json,sys; g=json.load(open(sys.argv[1])); assert g=={"en-0":["Q1"],"en-1":["Q2"]}, g' \
  "$OUT/labels/mewslix/test-en.json" || fail "Mewsli-X test labels are not the release's entity ids"
OUT=$DEV_OUT
expect_error 1 "missing data file .*/pawsx/original/x-final/en/test_2k.tsv .*experiments/data/download.sh fetches" -- \
  any_split --task pawsx --langs en --split test --out "$WORK/pawsx-test"

# The UDHR tasks on the package layout, declaration/<code>.html: English and three others (the
# Hindi fixture's article 3 has no English counterpart).
UDHR="$WORK/udhr"
FIXTURES="$(dirname "$0")/../unit/data/udhr/fixtures"
mkdir -p "$UDHR/declaration"
cp "$FIXTURES/eng.html" "$FIXTURES/cmn_hans.html" "$FIXTURES/hin.html" "$UDHR/declaration/"
cp "$FIXTURES/swh_plain.html" "$UDHR/declaration/swh.html"
udhr() { EVAL_DATA=$UDHR ev "$@"; }
udhr --task udhr-article --langs en,sw,zh,hi >"$WORK/udhr-article.txt" 2>&1 ||
  fail "udhr-article failed: $(cat "$WORK/udhr-article.txt")"
check udhr-article en sw zh hi
[ "$(wc -l <"$OUT/predictions/udhr-article/test-en.tsv")" -eq 5 ] ||
  fail "udhr-article: not one prediction per English paragraph"
[ "$(tr '\n' ' ' <"$OUT/labels/udhr-article/test-en.tsv")" = "0 0 1 2 2 " ] ||
  fail "udhr-article labels are not the paragraphs' articles"
$PY -c 'import sys; assert all(0 <= int(l) <= 30 for l in open(sys.argv[1])), "not an article"' \
  "$OUT/predictions/udhr-article/test-zh.tsv" || fail "a udhr-article prediction is no article"
EVAL_DATA=$UDHR any_split --task udhr-article --langs sw --split test --out "$WORK/udhr-test" \
  >/dev/null 2>&1 || fail "udhr-article on the test split failed"
grep -q '"data_file": ".*declaration/swh.html"' "$WORK/udhr-test/udhr-article/sw.json" ||
  fail "the test split does not read the declaration"
udhr --task udhr-align --langs sw,zh,hi --layer 1 >"$WORK/udhr-align.txt" 2>&1 ||
  fail "udhr-align failed: $(cat "$WORK/udhr-align.txt")"
check udhr-align sw zh hi
$PY - "$OUT" <<'PY' || fail "udhr-align results are wrong"
import json, sys
out = sys.argv[1]
hi = json.load(open(f"{out}/udhr-align/hi.json"))
assert hi["examples"] == 1 and hi["notes"]["paragraphs_without_english_counterpart"] == 1, hi
assert hi["notes"]["candidates"] == 5, hi
zh = json.load(open(f"{out}/udhr-align/zh.json"))
assert zh["examples"] == 3 and zh["notes"]["paragraphs_without_english_counterpart"] == 0, zh
assert open(f"{out}/labels/udhr-align/test-zh.tsv").read() == "0\n2\n3\n"
assert all(0 <= int(l) < 5 for l in open(f"{out}/predictions/udhr-align/test-zh.tsv"))
PY
expect_error 2 "udhr-align has no language 'en'" -- udhr --task udhr-align --langs en
expect_error 1 "missing data file .*udhr/declaration/arb.html" -- udhr --task udhr-article --langs ar

# Bad input.
expect_error 2 "unknown task 'nope'; supported: xnli" -- ev --task nope
expect_error 2 "unknown task 'bucc'; supported: .*tatoeba, bucc2018, lareqa, mewslix" -- ev --task bucc
expect_error 2 "'xx'.*--langs|--langs.*'xx'" -- ev --task xnli --langs en,xx
expect_error 2 "xnli has no language 'ja'" -- ev --task xnli --langs ja
expect_error 1 "missing data file .*download/xnli/dev-de.tsv" -- ev --task xnli --langs de
expect_error 1 "tydiqa.goldp.sw.dev.json: example .* has no gold label" -- \
  ev --task tydiqa --langs sw --max-length 4
expect_error 2 "--split: 'train', expected test or dev" -- any_split --task xnli --split train

# As one tensor-parallel replica under mpirun (test-small's shape, whose 4 heads split over 2
# ranks, with 384 embedding rows for the 320-piece tokenizer): rank 0 writes exactly what one
# process writes.
"$STILTS" train --model test-small --vocab-size 384 --task copy --steps 3 --batch 8 \
  --eval-batches 0 --run-dir "$WORK/small" --log-every 10 >/dev/null
small() {
  "$STILTS" eval --checkpoint "$WORK/small" --tokenizer "$WORK/tok.model" --extra-ids 10 \
    --data "$DATA" --split dev --task xnli --langs en,hi,zh,ar "$@"
}
small --out "$WORK/tp1" >/dev/null 2>&1
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 mpirun -np 2 --oversubscribe \
  --mca mpi_yield_when_idle 1 "$STILTS" eval --checkpoint "$WORK/small" \
  --tokenizer "$WORK/tok.model" --extra-ids 10 --data "$DATA" --split dev --task xnli \
  --langs en,hi,zh,ar --tp 2 --out "$WORK/tp2" >"$WORK/tp2.txt" 2>/dev/null ||
  fail "stilts eval --tp 2 under mpirun failed"
diff -r "$WORK/tp1/predictions" "$WORK/tp2/predictions" ||
  fail "TP=2 predictions differ from one process"
for lang in en hi zh ar; do
  $PY - "$WORK/tp1/xnli/$lang.json" "$WORK/tp2/xnli/$lang.json" <<'PY' || fail "TP=2 $lang score"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
sys.exit(0 if a["score"] == b["score"] and a["examples"] == b["examples"] else 1)
PY
done
[ "$(grep -c "^xnli mean" "$WORK/tp2.txt")" -eq 1 ] || fail "rank 0 alone should print the summary"
expect_error 2 "stilts eval runs one model replica" -- small --out "$WORK/tp-bad" --tp 2
echo "eval: ok"
