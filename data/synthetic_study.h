// A controlled cross-lingual study whose answer is known in advance (Roadmap 9): an English-like
// language from a template grammar, and languages derived from it by word-level substitution
// onto pseudo-words of their own, so that what transfers between them, and why, is set by
// construction. K et al. (ICLR 2020, "Cross-Lingual Ability of Multilingual BERT") and Dufter and
// Schütze (EMNLP 2020, "Identifying Elements Essential for BERT's Multilinguality") show that
// small models trained on English and such "fake" languages transfer across them when the
// languages share anchors and structure, and fail to when word order differs or nothing is shared;
// experiments/demo/README.md says how the demo uses them.
//
// The languages (synthetic_languages()):
//   en  the source language: subject-verb-object, adjective before noun, Latin script
//   ei  an identity control: English itself under another code (every word kept)
//   aa, ab  family "Alpha", English's word order; aa is in the multilingual mix, ab held out
//   ba, bb  family "Beta", object-subject-verb and noun before adjective; ba in the mix, bb out
// Each derived language spells every English word as a pseudo-word of syllables in a script of
// its own (Greek, Cyrillic, Armenian, Georgian letters), so no two languages share a word piece
// except the anchors every language keeps as they are, as real languages share numbers and
// names: digits and a set of personal names.
//
// A sentence has a subject and an object noun phrase, each noun from one of four topics (animal,
// food, tool, place; drawn apart, so they share it a quarter of the time), a verb, optionally an
// adjective per noun, and optionally an anchor phrase (a number, or "with <name>"). The tasks:
//   text    monolingual sentences per language, drawn independently (no parallel text), in
//           documents of 8 sentences a line: the span-corruption pretraining corpus
//   topic   the target task: the subject's topic, one of the four label words; trained in
//           English, tested zero-shot in every language (the same test sentences translated,
//           balanced over the four topics)
//   object  the intermediate task: the object's topic. Its translations teach, in the mix
//           languages, the mapping of nouns to topics that the target needs
//   object-shuffled  the same examples with labels drawn at random (the same label for an
//           example in every language): the negative control, which teaches no mapping
//   align   parallel sentences, the retrieval task: each sentence's English original
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace stilts::data {

struct SyntheticLanguage {
  std::string_view code;
  std::string_view name;
  std::string_view family;  // the report's family: "English", "Alpha", "Beta"
  std::string_view branch;  // the word order: "SVO, adjective-noun" / "OSV, noun-adjective"
  std::string_view script;  // ISO 15924
  bool in_mix;              // in the multilingual intermediate mix
};

// en, ei, aa, ab, ba, bb, in that order.
const std::vector<SyntheticLanguage>& synthetic_languages();

// The target task's labels, by topic index: the words the model generates.
const std::vector<std::string>& synthetic_topic_labels();

struct SyntheticStudyOptions {
  uint64_t seed = 1;
  int64_t text_sentences = 4000;      // per language, for pretraining
  int64_t target_train = 2000;        // English topic examples
  int64_t target_dev = 500;           // English topic dev, and English object dev (checked only)
  int64_t target_test = 1000;         // per language, translations of one English set
  int64_t intermediate_train = 2000;  // English object examples, translated into the mix
  int64_t align_sentences = 500;      // per language, translations of one English set

  // Throws std::invalid_argument naming the option when a count is below 1.
  void validate() const;
};

// One sentence of the grammar, as indices into the lexicon (synthetic_study.cc).
struct SyntheticSentence {
  int subject_topic = 0, subject_noun = 0, subject_adjective = -1;  // -1: none
  int verb = 0;
  int object_topic = 0, object_noun = 0, object_adjective = -1;
  int anchor = -1;  // -1: none; else an index into the anchors (numbers, then names)
};

// Draws sentence `index` of stream `stream` (the same (seed, stream, index) always gives the
// same sentence, in any language).
SyntheticSentence synthetic_sentence(uint64_t seed, std::string_view stream, uint64_t index);

// The sentence written in `language` (a code of synthetic_languages()).
std::string render_sentence(const SyntheticSentence& sentence, std::string_view language,
                            uint64_t seed);

// Writes the study under `out_dir` (written into a temporary folder beside it, which is renamed
// into place whole; an existing `out_dir` is refused):
//   languages.tsv                   the language table, as experiments/languages.tsv's layout
//   text/{lang}.txt                 a document of 8 sentences a line
//   topic/{train,dev}-en.tsv, topic/test-{lang}.tsv    id<TAB>sentence<TAB>label
//   object/train-{lang}.tsv, object-shuffled/train-{lang}.tsv   en and the mix languages
//   object/dev-en.tsv               the intermediate task's English dev set
// No English sentence is in two of the English splits (topic train, dev and test; object train
// and dev).
//   align/{lang}.tsv                id<TAB>sentence, the same ids in every language
// The ids name the source sentence, so a translation has its original's id.
void write_synthetic_study(const std::string& out_dir, const SyntheticStudyOptions& options);

}  // namespace stilts::data
