// PAWS-X as XTREME ships it: pawsx/{train,dev,test}-{lang}.tsv, "sent1<TAB>sent2<TAB>label"
// with label 0 (different meaning) or 1 (paraphrase); test files without the label.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"
#include "data/readers/xnli.h"

namespace stilts::data {

// "paws sentence1: {s1} sentence2: {s2}" -> different_meaning | paraphrase (file labels 0, 1).
const SentencePairTask& pawsx_task();
std::vector<Example> read_pawsx(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary);

}  // namespace stilts::data
