#include "data/readers/conllu.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "data/readers/tagging.h"
#include "data/readers/text_file.h"

namespace stilts::data {

namespace {

namespace fs = std::filesystem;

// A node of the sentence's graph: the root (index 0) or a word.
struct Node {
  std::string form;
  std::string upos;
  std::vector<size_t> heads;  // HEAD, then the word heads of DEPS
  size_t line = 0;            // 1-based
};

struct MultiwordToken {
  size_t first = 0;
  size_t last = 0;
  std::string form;
  size_t line = 0;
};

struct Sentence {
  std::vector<std::string> tokens;
  std::vector<std::string> tags;
};

// conllu_to_conll.py's POSRANKPRECEDENCEDICT: the order in which the words tied as a multiword
// token's head are preferred, by the language conllu_to_conll.py is given (the file's).
const std::vector<std::string>& head_precedence(const std::string& language) {
  static const std::vector<std::string> fallback = {
      "VERB", "NOUN", "PROPN", "PRON", "ADJ",   "NUM",   "ADV", "INTJ",
      "AUX",  "ADP",  "DET",   "PART", "CCONJ", "SCONJ", "X",   "PUNCT"};
  static const std::vector<std::string> es = {"VERB", "AUX", "PRON", "ADP", "DET"};
  static const std::vector<std::string> fr = {"VERB", "AUX", "PRON", "NOUN",  "ADJ", "ADV",
                                              "ADP",  "DET", "PART", "SCONJ", "CONJ"};
  static const std::vector<std::string> it = {"VERB", "AUX", "ADV", "PRON", "ADP", "DET", "INTJ"};
  if (language == "es") return es;
  if (language == "fr") return fr;
  if (language == "it") return it;
  return fallback;
}

// A word index (ID, HEAD, a DEPS head); nullopt for anything else, such as an empty node's 8.1.
std::optional<size_t> parse_index(std::string_view text) {
  if (text.empty() || text.size() > 9 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoul(std::string(text));
}

// How many nodes reach `node`, itself not counted even on a cycle (networkx's ancestors, which
// conllu_to_conll.py ranks a multiword token's words by).
size_t ancestor_count(const std::vector<Node>& nodes, size_t node) {
  std::vector<bool> seen(nodes.size(), false);
  std::vector<size_t> pending = {node};
  size_t count = 0;
  while (!pending.empty()) {
    const size_t at = pending.back();
    pending.pop_back();
    for (const size_t head : nodes[at].heads) {
      if (seen[head]) continue;
      seen[head] = true;
      if (head != node) ++count;
      pending.push_back(head);
    }
  }
  return count;
}

// The word of the token's range whose UPOS the token takes, by the heuristics of
// conllu_to_conll.py's _choose_spanhead_from_heuristics.
size_t multiword_head(const std::vector<Node>& nodes, const MultiwordToken& token,
                      const std::string& language, const std::string& path) {
  std::vector<size_t> counts;
  for (size_t word = token.first; word <= token.last; ++word)
    counts.push_back(ancestor_count(nodes, word));
  const size_t fewest = *std::min_element(counts.begin(), counts.end());
  std::vector<size_t> tied;
  for (size_t i = 0; i < counts.size(); ++i)
    if (counts[i] == fewest) tied.push_back(token.first + i);
  if (tied.size() == 1) return tied[0];
  const std::vector<std::string>& precedence = head_precedence(language);
  size_t best = tied[0];
  size_t best_rank = precedence.size();
  for (const size_t word : tied) {
    const auto rank = static_cast<size_t>(
        std::find(precedence.begin(), precedence.end(), nodes[word].upos) - precedence.begin());
    if (rank == precedence.size())
      throw RecordError(path, std::to_string(token.line),
                        "the words of multiword token '" + token.form +
                            "' tie as its head and UPOS '" + nodes[word].upos +
                            "' is not in conllu_to_conll.py's precedence list");
    if (rank < best_rank) {
      best = word;
      best_rank = rank;
    }
  }
  return best;
}

// Spaces and U+200C removed.
std::string without_spaces(const std::string& form) {
  static const std::string zwnj = "\u200c";
  std::string out;
  for (size_t i = 0; i < form.size(); ++i) {
    if (form.compare(i, zwnj.size(), zwnj) == 0) {
      i += zwnj.size() - 1;
      continue;
    }
    if (form[i] != ' ') out += form[i];
  }
  return out;
}

// The sentence on lines [first, end), or nullopt when udpos_preprocess drops it.
std::optional<Sentence> read_sentence(const std::string& path,
                                      const std::vector<std::string>& lines, size_t first,
                                      size_t end, const std::string& language) {
  std::vector<Node> nodes(1);
  std::vector<MultiwordToken> multiword;
  for (size_t i = first; i < end; ++i) {
    if (lines[i][0] == '#') continue;
    const std::string where = std::to_string(i + 1);
    const std::vector<std::string> columns = split_tabs(lines[i]);
    if (columns.size() != 10)
      throw RecordError(path, where,
                        "expected 10 tab-separated columns, got " + std::to_string(columns.size()));
    const std::string& id = columns[0];
    if (id.find('.') != std::string::npos) continue;
    if (const size_t dash = id.find('-'); dash != std::string::npos) {
      const auto from = parse_index(std::string_view(id).substr(0, dash));
      const auto to = parse_index(std::string_view(id).substr(dash + 1));
      if (!from || !to || *from < 1 || *to < *from)
        throw RecordError(path, where, "bad multiword token ID '" + id + "'");
      multiword.push_back({*from, *to, columns[1], i + 1});
      continue;
    }
    if (parse_index(id) != nodes.size())
      throw RecordError(path, where,
                        "word ID '" + id + "', expected " + std::to_string(nodes.size()));
    Node word{columns[1], columns[3], {}, i + 1};
    if (columns[6] != "_") {
      const auto head = parse_index(columns[6]);
      if (!head) throw RecordError(path, where, "bad HEAD '" + columns[6] + "'");
      word.heads.push_back(*head);
    }
    if (columns[8] != "_")
      for (const std::string& dependency : split_on(columns[8], '|'))
        if (const auto head = parse_index(dependency.substr(0, dependency.find(':'))))
          word.heads.push_back(*head);
    nodes.push_back(std::move(word));
  }
  if (nodes.size() == 1) throw RecordError(path, std::to_string(first + 1), "no words");
  for (const Node& node : nodes)
    for (const size_t head : node.heads)
      if (head >= nodes.size())
        throw RecordError(path, std::to_string(node.line),
                          "head " + std::to_string(head) + " is no word of the sentence");

  std::vector<bool> kept(nodes.size(), true);
  std::vector<std::string> forms;
  for (const Node& node : nodes) forms.push_back(node.form);
  for (const MultiwordToken& token : multiword) {
    if (token.last >= nodes.size())
      throw RecordError(path, std::to_string(token.line),
                        "multiword token '" + token.form + "' spans words the sentence lacks");
    const size_t head = multiword_head(nodes, token, language, path);
    for (size_t word = token.first; word <= token.last; ++word) kept[word] = word == head;
    forms[head] = token.form;
  }

  std::vector<size_t> words;
  for (size_t word = 1; word < nodes.size(); ++word)
    if (kept[word]) words.push_back(word);
  const auto blank = static_cast<size_t>(
      std::count_if(words.begin(), words.end(), [&](size_t word) { return forms[word] == "_"; }));
  if (blank > 0 && blank + 1 >= words.size()) return std::nullopt;

  Sentence sentence;
  for (const size_t word : words) {
    const std::string where = std::to_string(nodes[word].line);
    sentence.tokens.push_back(without_spaces(forms[word]));
    if (sentence.tokens.back().empty())
      throw RecordError(path, where,
                        "the form '" + forms[word] + "' is empty without spaces and U+200C");
    check_tag(udpos_task(), nodes[word].upos, path, where);
    sentence.tags.push_back(nodes[word].upos);
  }
  return sentence;
}

// The treebank files `path` names: itself, or a folder's *-ud-{split}.conllu in name order.
std::vector<std::string> treebank_files(const std::string& path, const ReadOptions& options) {
  if (!fs::is_directory(path)) return {path};
  if (options.split.empty())
    throw std::invalid_argument(path + ": a folder of treebanks is read for one split, and " +
                                "ReadOptions::split is empty");
  const std::string suffix = "-ud-" + options.split + ".conllu";
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::directory_iterator(path)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(entry.path().string());
  }
  if (files.empty()) throw std::runtime_error(path + ": no *" + suffix + " file");
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<Example> read_udpos_conllu(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary) {
  std::vector<Example> examples;
  int64_t sentence = 0;  // counts the bad sentences too, so ids keep XTREME's order
  for (const std::string& file : treebank_files(path, options)) {
    // {lang}_{treebank}-ud-{split}.conllu
    const std::string name = base_name(file);
    const size_t underscore = name.find('_');
    const size_t ud = name.rfind("-ud-");
    const size_t extension = name.rfind(".conllu");
    const bool named = underscore != std::string::npos && ud != std::string::npos &&
                       extension != std::string::npos && underscore < ud && ud + 4 < extension;
    const std::string language =
        resolve_language(file, named ? name.substr(0, underscore) : "", options);
    const std::string split =
        resolve_split(named ? name.substr(ud + 4, extension - ud - 4) : "", options);

    const std::vector<std::string> lines = read_lines(file);
    size_t first = 0;
    for (size_t i = 0; i <= lines.size(); ++i) {
      if (i < lines.size() && !lines[i].empty()) continue;
      if (i > first) {
        bool dropped = false;
        guarded(options, summary, [&] {
          std::optional<Sentence> read = read_sentence(file, lines, first, i, language);
          dropped = !read;
          if (read)
            examples.push_back(tagging_example(
                udpos_task(), split + "-" + language + "-" + std::to_string(sentence), language,
                std::move(read->tokens), std::move(read->tags)));
        });
        if (!dropped) ++sentence;
      }
      first = i + 1;
    }
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
