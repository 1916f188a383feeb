// XNLI (and MNLI train, which XTREME ships as xnli/train-en.tsv) and the sentence-pair TSV
// format it shares with PAWS-X: "sent1<TAB>sent2<TAB>label" as Python's csv.writer writes it,
// files named {train,dev,test}-{lang}.tsv, test files without the label column. The
// translate-train files of the XTREME layout, xnli/XNLI-Translated/en-{lang}-translated.tsv and
// pawsx/translated/en-{lang}-translated.tsv, are read too: unquoted, as XTREME reads them
// (transformers' _read_tsv with quotechar=None), with ids "translate-train-{lang}-{row}".
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// How one sentence-pair task maps its rows to text: input
// "{before_first}{sent1}{before_second}{sent2}", target the word for the label.
struct SentencePairTask {
  std::string before_first;              // e.g. "xnli: premise: "
  std::string before_second;             // e.g. " hypothesis: "
  std::vector<std::string> file_labels;  // the label column's values, by label index
  std::vector<std::string> label_words;  // the targets, same order
  // Other values the label column may hold, with the label index each stands for.
  std::vector<std::pair<std::string, size_t>> label_synonyms = {};
};

// The example of one pair, labeled when `label` is given: input from the template, target and
// gold {labeled, label, label_index} from the label (a value the task does not know is a
// RecordError at path:where); id and language are left to the caller.
Example sentence_pair_example(const SentencePairTask& task, const std::string& first,
                              const std::string& second, const std::string* label,
                              const std::string& path, const std::string& where);

std::vector<Example> read_sentence_pair_tsv(const std::string& path, const SentencePairTask& task,
                                            const ReadOptions& options, ReadSummary& summary);

// "xnli: premise: {p} hypothesis: {h}" -> entailment | neutral | contradiction.
const SentencePairTask& xnli_task();
std::vector<Example> read_xnli(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary);

}  // namespace stilts::data
