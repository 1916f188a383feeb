// The English NLI sets of the intermediate-task study in their native JSON-lines releases:
// MultiNLI (multinli_1.0_{train,dev_matched,dev_mismatched}.jsonl) and SNLI
// (snli_1.0_{train,dev,test}.jsonl), both {pairID, sentence1, sentence2, gold_label}, and
// ANLI (anli_v1.0/R{1,2,3}/{train,dev,test}.jsonl): {uid, context, hypothesis, label: e|n|c}.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// "xnli: premise: {p} hypothesis: {h}" -> entailment | neutral | contradiction, the xnli
// reader's template, so that a model fine-tuned on these transfers to XNLI unchanged.
// Records whose gold_label is "-" (no annotator majority) are dropped, not counted as bad.
std::vector<Example> read_multinli_jsonl(const std::string& path, const ReadOptions& options,
                                         ReadSummary& summary);

// The same template and targets from ANLI's e | n | c labels.
std::vector<Example> read_anli(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary);

}  // namespace stilts::data
