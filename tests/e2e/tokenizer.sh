#!/usr/bin/env bash
# stilts tokenizer: train a small multilingual model, encode and decode through the command line
# (round trip, sentinels, stdin lines), and the usage and file errors.
source "$(dirname "$0")/lib.sh"

$PY - "$WORK/corpus.txt" <<'PY'
import random, sys
words = {
    " ": ["the quick brown fox jumps over a lazy dog while children read old books".split(),
          "быстрая коричневая лиса прыгает через ленивую собаку пока дети читают книги".split(),
          "η γρήγορη καφέ αλεπού πηδά πάνω από τον τεμπέλη σκύλο ενώ τα παιδιά διαβάζουν".split(),
          "الثعلب البني السريع يقفز فوق الكلب الكسول بينما يقرأ الأطفال كتبا قديمة".split()],
    "": ["敏捷的 棕色 狐狸 跳过了 懒惰的 狗 孩子们 正在 读 关于 历史 和 音乐 的 旧书".split()],
}
rng = random.Random(1)
with open(sys.argv[1], "w", encoding="utf-8") as f:
    for sep, groups in words.items():
        for w in groups:
            for _ in range(40):
                f.write(sep.join(rng.choice(w) for _ in range(8)) + "\n")
PY

"$STILTS" tokenizer train --input "$WORK/corpus.txt" --model-prefix "$WORK/tok" --vocab-size 500 \
  --character-coverage 1.0 >"$WORK/train.txt"
grep -q "500 pieces (512 embedding rows), sentinels 400..499" "$WORK/train.txt" ||
  fail "unexpected training summary: $(cat "$WORK/train.txt")"
[ "$(wc -l <"$WORK/tok.vocab")" -eq 500 ] || fail "tok.vocab does not list 500 pieces"

M=(--tokenizer "$WORK/tok.model")
text="the lazy fox читают книги 狐狸 🦊"
ids=$("$STILTS" tokenizer encode "${M[@]}" --text "$text")
[ "$("$STILTS" tokenizer decode "${M[@]}" --ids "$ids")" = "$text" ] || fail "round trip of '$text'"
[ "$("$STILTS" tokenizer encode "${M[@]}" --text "$text" --eos)" = "$ids 1" ] ||
  fail "--eos does not append id 1"
[ "$("$STILTS" tokenizer encode "${M[@]}" --text "<extra_id_0>")" = 499 ] ||
  fail "<extra_id_0> is not id 499"
[ "$("$STILTS" tokenizer encode "${M[@]}" --text "<extra_id_1>" --pieces)" = "▁<extra_id_1>" ] ||
  fail "--pieces does not print the sentinel piece"
[ "$("$STILTS" tokenizer decode "${M[@]}" --ids "400")" = "<extra_id_99>" ] ||
  fail "id 400 does not decode to <extra_id_99>"
printf 'the dog\nη αλεπού\n' | "$STILTS" tokenizer encode "${M[@]}" >"$WORK/lines.txt"
[ "$(wc -l <"$WORK/lines.txt")" -eq 2 ] || fail "stdin lines were not encoded one per line"
"$STILTS" tokenizer decode "${M[@]}" <"$WORK/lines.txt" >"$WORK/decoded.txt"
[ "$(cat "$WORK/decoded.txt")" = "$(printf 'the dog\nη αλεπού')" ] || fail "stdin decode"

expect_error 2 "expected a subcommand" -- "$STILTS" tokenizer
expect_error 2 "unknown subcommand 'frob'" -- "$STILTS" tokenizer frob
expect_error 2 "'x' is not a token id" -- "$STILTS" tokenizer decode "${M[@]}" --ids "5 x"
expect_error 1 "outside the 500 pieces" -- "$STILTS" tokenizer decode "${M[@]}" --ids "5 500"
expect_error 1 "missing.model: cannot open" -- \
  "$STILTS" tokenizer encode --tokenizer "$WORK/missing.model" --text hi
expect_error 1 "corpus.txt: not a SentencePiece model" -- \
  "$STILTS" tokenizer encode --tokenizer "$WORK/corpus.txt" --text hi
expect_error 1 "expected the sentinel <extra_id_100>" -- \
  "$STILTS" tokenizer encode "${M[@]}" --extra-ids 101 --text hi
expect_error 2 "--vocab-size: 50 leaves no room" -- \
  "$STILTS" tokenizer train --input "$WORK/corpus.txt" --model-prefix "$WORK/never" --vocab-size 50
expect_error 1 "nope.txt: cannot open" -- \
  "$STILTS" tokenizer train --input "$WORK/nope.txt" --model-prefix "$WORK/never" --vocab-size 500
[ ! -e "$WORK/never.model" ] || fail "a failed training left never.model behind"
# --task: the texts a task reader finds in native files (here two UDHR declarations).
UDHR=$(dirname "$0")/../unit/data/udhr/fixtures
"$STILTS" tokenizer train --task udhr --input "$UDHR/eng.html" --input "$UDHR/swh_plain.html" \
  --model-prefix "$WORK/udhr" --vocab-size 320 --extra-ids 10 >"$WORK/udhr.txt"
grep -q "320 pieces" "$WORK/udhr.txt" || fail "--task udhr: $(cat "$WORK/udhr.txt")"
ls "$WORK" | grep -q 'udhr.text' && fail "--task left its text file behind"
[ "$("$STILTS" tokenizer decode --tokenizer "$WORK/udhr.model" --extra-ids 10 \
  --ids "$("$STILTS" tokenizer encode --tokenizer "$WORK/udhr.model" --extra-ids 10 \
  --text "Everyone has the right to life, liberty")")" = "Everyone has the right to life, liberty" ] ||
  fail "a UDHR phrase does not round-trip through the --task model"
expect_error 2 "--task: .*unknown task 'nope'" -- \
  "$STILTS" tokenizer train --task nope --input "$UDHR/eng.html" --model-prefix "$WORK/never" \
  --vocab-size 400
expect_error 1 "fixtures/nope.html" -- \
  "$STILTS" tokenizer train --task udhr --input "$UDHR/nope.html" --model-prefix "$WORK/never" \
  --vocab-size 400
[ ! -e "$WORK/never.model" ] || fail "a failed --task training left never.model behind"
echo "tokenizer command behaves"
