#include "data/synthetic_study.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

#include "data/stable_hash.h"

namespace stilts::data {
namespace {

namespace fs = std::filesystem;

// Each topic's nouns; the first is the topic's own name, which is also its label, so that the
// label word is a word of the language the tokenizer and the model have seen.
const std::array<std::vector<std::string>, 4> kNouns = {{
    {"animal", "dog", "cat", "horse", "bird", "cow", "lion", "wolf", "bear", "goat", "duck",
     "mouse"},
    {"food", "bread", "apple", "rice", "cheese", "soup", "cake", "egg", "milk", "honey", "bean",
     "pear"},
    {"tool", "hammer", "knife", "saw", "rope", "axe", "spade", "needle", "brush", "drill", "ladder",
     "wheel"},
    {"place", "river", "city", "forest", "village", "market", "school", "mountain", "garden",
     "harbor", "bridge", "valley"},
}};
const std::vector<std::string> kVerbs = {
    "sees",  "finds", "likes",   "carries", "wants",  "needs", "watches", "moves",
    "takes", "holds", "follows", "paints",  "counts", "buys",  "hides",   "meets"};
const std::vector<std::string> kAdjectives = {"red",    "small", "old",   "big",  "green", "quiet",
                                              "bright", "heavy", "young", "cold", "dark",  "round"};
// Function words, translated like the rest.
const std::string kThe = "the", kTimes = "times", kWith = "with";
// The anchors every language writes alike: numbers, then names.
const std::vector<std::string> kNumbers = {"2", "3", "4", "5", "6", "7", "8", "9"};
const std::vector<std::string> kNames = {"Ana", "Bo", "Kim", "Lee", "Max", "Noa", "Sam", "Tom"};

// A derived language's letters: its pseudo-words are consonant-vowel syllables of them.
struct Alphabet {
  std::vector<std::string> consonants;
  std::vector<std::string> vowels;
};

// UTF-8 letters of a string, one per element.
std::vector<std::string> letters(std::string_view text) {
  std::vector<std::string> out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const size_t n = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    out.emplace_back(text.substr(i, n));
    i += n;
  }
  return out;
}

const Alphabet& alphabet_of(std::string_view code) {
  static const std::unordered_map<std::string_view, Alphabet> alphabets = {
      {"aa", {letters("βγδζθκλμνξπρστφχψ"), letters("αεηιουω")}},
      {"ab", {letters("бвгджзклмнпрстфхцчш"), letters("аеиоуыэюя")}},
      {"ba", {letters("բգդզթժլխծկհձղճմյնշչպջռսվտրցփքֆ"), letters("աեէըիոօ")}},
      {"bb", {letters("ბგდვზთკლმნპჟრსტფქღყშჩცძწჭხჯჰ"), letters("აეიოუ")}},
  };
  const auto it = alphabets.find(code);
  if (it == alphabets.end()) throw std::logic_error("no alphabet for " + std::string(code));
  return it->second;
}

std::mt19937_64 generator(uint64_t seed, std::string_view stream, uint64_t index) {
  const uint64_t h = stable_hash(std::string(stream) + "/" + std::to_string(index));
  std::seed_seq seq{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                    static_cast<uint32_t>(h), static_cast<uint32_t>(h >> 32)};
  return std::mt19937_64(seq);
}

// A uniform integer in [0, n): the rejection method over the generator's 64 bits, so that every
// standard library draws the same (std::uniform_int_distribution's algorithm is its own).
int below(std::mt19937_64& gen, size_t n) {
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do x = gen();
  while (x >= limit);
  return static_cast<int>(x % n);
}

// Every English word of the grammar, in a fixed order.
std::vector<std::string> english_words() {
  std::vector<std::string> words = {kThe, kTimes, kWith};
  for (const auto& nouns : kNouns) words.insert(words.end(), nouns.begin(), nouns.end());
  words.insert(words.end(), kVerbs.begin(), kVerbs.end());
  words.insert(words.end(), kAdjectives.begin(), kAdjectives.end());
  return words;
}

// The derived language's word for each English word: two or three syllables, distinct within
// the language, drawn from (seed, language, word).
const std::unordered_map<std::string, std::string>& lexicon(std::string_view code, uint64_t seed) {
  static std::unordered_map<std::string, std::unordered_map<std::string, std::string>> cache;
  const std::string key = std::string(code) + "/" + std::to_string(seed);
  if (const auto it = cache.find(key); it != cache.end()) return it->second;
  const Alphabet& a = alphabet_of(code);
  std::unordered_map<std::string, std::string> words;
  std::unordered_set<std::string> taken;
  for (const std::string& english : english_words()) {
    for (uint64_t attempt = 0;; ++attempt) {
      std::mt19937_64 gen = generator(seed, std::string("lexicon/") + key + "/" + english, attempt);
      const int syllables = 2 + below(gen, 2);
      std::string word;
      for (int s = 0; s < syllables; ++s)
        word += a.consonants[static_cast<size_t>(below(gen, a.consonants.size()))] +
                a.vowels[static_cast<size_t>(below(gen, a.vowels.size()))];
      if (taken.insert(word).second) {
        words.emplace(english, word);
        break;
      }
    }
  }
  return cache.emplace(key, std::move(words)).first->second;
}

const SyntheticLanguage& language_of(std::string_view code) {
  for (const SyntheticLanguage& language : synthetic_languages())
    if (language.code == code) return language;
  throw std::invalid_argument("synthetic study: unknown language '" + std::string(code) + "'");
}

// A file of the study's folder, which is written under a temporary name and renamed whole
// (write_synthetic_study), so no file needs its own rename.
void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

std::string tsv_line(const std::string& id, const std::string& sentence, const std::string& label) {
  return id + "\t" + sentence + (label.empty() ? "" : "\t" + label) + "\n";
}

}  // namespace

const std::vector<SyntheticLanguage>& synthetic_languages() {
  static const std::vector<SyntheticLanguage> languages = {
      {"en", "English (synthetic)", "English", "SVO, adjective-noun", "Latn", true},
      {"ei", "English identity", "English", "SVO, adjective-noun", "Latn", false},
      {"aa", "Alpha A", "Alpha", "SVO, adjective-noun", "Grek", true},
      {"ab", "Alpha B", "Alpha", "SVO, adjective-noun", "Cyrl", false},
      {"ba", "Beta A", "Beta", "OSV, noun-adjective", "Armn", true},
      {"bb", "Beta B", "Beta", "OSV, noun-adjective", "Geor", false},
  };
  return languages;
}

const std::vector<std::string>& synthetic_topic_labels() {
  static const std::vector<std::string> labels = {kNouns[0][0], kNouns[1][0], kNouns[2][0],
                                                  kNouns[3][0]};
  return labels;
}

void SyntheticStudyOptions::validate() const {
  const std::pair<const char*, int64_t> counts[] = {{"text_sentences", text_sentences},
                                                    {"target_train", target_train},
                                                    {"target_dev", target_dev},
                                                    {"target_test", target_test},
                                                    {"intermediate_train", intermediate_train},
                                                    {"align_sentences", align_sentences}};
  for (const auto& [name, value] : counts)
    if (value < 1)
      throw std::invalid_argument(std::string("synthetic study: ") + name +
                                  " must be at least 1, got " + std::to_string(value));
}

SyntheticSentence synthetic_sentence(uint64_t seed, std::string_view stream, uint64_t index) {
  std::mt19937_64 gen = generator(seed, stream, index);
  SyntheticSentence s;
  s.subject_topic = below(gen, kNouns.size());
  s.object_topic = below(gen, kNouns.size());
  s.subject_noun = below(gen, kNouns[0].size());
  s.object_noun = below(gen, kNouns[0].size());
  s.verb = below(gen, kVerbs.size());
  s.subject_adjective = below(gen, 2) ? below(gen, kAdjectives.size()) : -1;
  s.object_adjective = below(gen, 2) ? below(gen, kAdjectives.size()) : -1;
  s.anchor = below(gen, 2) ? below(gen, kNumbers.size() + kNames.size()) : -1;
  return s;
}

std::string render_sentence(const SyntheticSentence& s, std::string_view code, uint64_t seed) {
  const SyntheticLanguage& language = language_of(code);
  const bool english = language.family == "English";
  const auto word = [&](const std::string& w) { return english ? w : lexicon(code, seed).at(w); };
  const bool noun_first = language.family == "Beta";
  const auto phrase = [&](int topic, int noun, int adjective) {
    const std::string n = word(kNouns[static_cast<size_t>(topic)][static_cast<size_t>(noun)]);
    std::string out = word(kThe) + " ";
    if (adjective < 0) return out + n;
    const std::string a = word(kAdjectives[static_cast<size_t>(adjective)]);
    return out + (noun_first ? n + " " + a : a + " " + n);
  };
  const std::string subject = phrase(s.subject_topic, s.subject_noun, s.subject_adjective);
  const std::string object = phrase(s.object_topic, s.object_noun, s.object_adjective);
  const std::string verb = word(kVerbs[static_cast<size_t>(s.verb)]);
  std::string out = language.family == "Beta" ? object + " " + subject + " " + verb
                                              : subject + " " + verb + " " + object;
  if (s.anchor >= 0) {
    const auto a = static_cast<size_t>(s.anchor);
    out += a < kNumbers.size() ? " " + kNumbers[a] + " " + word(kTimes)
                               : " " + word(kWith) + " " + kNames[a - kNumbers.size()];
  }
  return out + " .";
}

void write_synthetic_study(const std::string& out_dir, const SyntheticStudyOptions& options) {
  options.validate();
  const fs::path out(out_dir);
  if (fs::exists(out))
    throw std::invalid_argument(out_dir +
                                ": exists; the synthetic study is written into a new folder "
                                "(remove it, or give another --out)");
  // Written into a sibling folder renamed into place at the end, so that an interrupted run
  // leaves no half-written study under the name.
  const fs::path partial = out.string() + ".partial-" + std::to_string(::getpid());
  fs::remove_all(partial);
  const uint64_t seed = options.seed;
  const auto& labels = synthetic_topic_labels();

  std::string table = "code\tname\tfamily\tbranch\tscript\n";
  for (const SyntheticLanguage& l : synthetic_languages())
    table += std::string(l.code) + "\t" + std::string(l.name) + "\t" + std::string(l.family) +
             "\t" + std::string(l.branch) + "\t" + std::string(l.script) + "\n";
  write_file(partial / "languages.tsv", table);

  // Pretraining text is written as documents of kDocumentSentences sentences, one a line: T5's
  // span corruption ends every example with a noise span, so on one short sentence it would mask
  // little but the final "." and the word before it.
  constexpr int64_t kDocumentSentences = 8;
  for (const SyntheticLanguage& l : synthetic_languages()) {
    const std::string code(l.code);
    std::string text;
    for (int64_t i = 0; i < options.text_sentences; ++i)
      text += render_sentence(synthetic_sentence(seed, "text-" + code, static_cast<uint64_t>(i)),
                              code, seed) +
              ((i + 1) % kDocumentSentences == 0 || i + 1 == options.text_sentences ? "\n" : " ");
    write_file(partial / "text" / (code + ".txt"), text);
  }

  // No English sentence is in two splits: the test sentences are kept out of training and dev,
  // so a zero-shot score is never a memorized one, and each dev set out of its training set.
  // The test set is balanced over the topics (its k-th sentence has topic k mod 4), so a model
  // that answers one label whatever the input scores chance exactly, in every run: a run's
  // label bias adds no noise to the scores of the languages it does not understand.
  std::vector<std::pair<std::string, SyntheticSentence>> test;
  for (uint64_t i = 0; static_cast<int64_t>(test.size()) < options.target_test; ++i) {
    const SyntheticSentence s = synthetic_sentence(seed, "topic-test", i);
    if (static_cast<size_t>(s.subject_topic) == test.size() % kNouns.size())
      test.emplace_back("topic-test-" + std::to_string(i), s);
  }
  std::set<std::string> used;
  for (const auto& [id, s] : test) used.insert(render_sentence(s, "en", seed));
  const auto english_split = [&](const std::string& stream, int64_t count) {
    std::vector<std::pair<std::string, SyntheticSentence>> out;
    for (uint64_t i = 0; static_cast<int64_t>(out.size()) < count; ++i) {
      const SyntheticSentence s = synthetic_sentence(seed, stream, i);
      if (!used.insert(render_sentence(s, "en", seed)).second) continue;
      out.emplace_back(stream + "-" + std::to_string(i), s);
    }
    return out;
  };
  for (const auto& [split, count] : {std::pair<std::string, int64_t>{"train", options.target_train},
                                     {"dev", options.target_dev}}) {
    std::string tsv;
    for (const auto& [id, s] : english_split("topic-" + split, count))
      tsv += tsv_line(id, render_sentence(s, "en", seed),
                      labels[static_cast<size_t>(s.subject_topic)]);
    write_file(partial / "topic" / (split + "-en.tsv"), tsv);
  }
  for (const SyntheticLanguage& l : synthetic_languages()) {
    std::string tsv;
    for (const auto& [id, s] : test)
      tsv += tsv_line(id, render_sentence(s, l.code, seed),
                      labels[static_cast<size_t>(s.subject_topic)]);
    write_file(partial / "topic" / ("test-" + std::string(l.code) + ".tsv"), tsv);
  }

  const auto intermediate = english_split("object-train", options.intermediate_train);
  for (const SyntheticLanguage& l : synthetic_languages()) {
    if (!l.in_mix) continue;
    std::string tsv, shuffled;
    for (const auto& [id, s] : intermediate) {
      const std::string sentence = render_sentence(s, l.code, seed);
      tsv += tsv_line(id, sentence, labels[static_cast<size_t>(s.object_topic)]);
      std::mt19937_64 gen = generator(seed, "shuffled-label", stable_hash(id));
      shuffled += tsv_line(id, sentence, labels[static_cast<size_t>(below(gen, labels.size()))]);
    }
    write_file(partial / "object" / ("train-" + std::string(l.code) + ".tsv"), tsv);
    write_file(partial / "object-shuffled" / ("train-" + std::string(l.code) + ".tsv"), shuffled);
  }
  // An English dev set shows that the intermediate stage learned its task.
  std::string object_dev;
  for (const auto& [id, s] : english_split("object-dev", options.target_dev))
    object_dev +=
        tsv_line(id, render_sentence(s, "en", seed), labels[static_cast<size_t>(s.object_topic)]);
  write_file(partial / "object" / "dev-en.tsv", object_dev);

  for (const SyntheticLanguage& l : synthetic_languages()) {
    std::string tsv;
    for (int64_t i = 0; i < options.align_sentences; ++i)
      tsv += tsv_line("align-" + std::to_string(i),
                      render_sentence(synthetic_sentence(seed, "align", static_cast<uint64_t>(i)),
                                      l.code, seed),
                      "");
    write_file(partial / "align" / (std::string(l.code) + ".tsv"), tsv);
  }
  fs::rename(partial, out);
}

}  // namespace stilts::data
