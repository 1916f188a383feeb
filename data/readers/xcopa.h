// XCOPA (and English COPA) as XTREME ships them: xcopa/{train,val,test}-{lang}.jsonl, one
// JSON object per line {premise, choice1, choice2, question: cause|effect, label: 0|1, idx}.
// XTREME forces test labels to 0, so test examples are read as unlabeled. XCOPA's own release,
// cambridgeltl/xcopa data/{lang}/{val,test}.{lang}.jsonl, has the same records with the real
// test labels: files named {split}.{lang}.jsonl are read as labeled, with XTREME's ids.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// "xcopa: premise: {p} question: {cause|effect} choice1: {c1} choice2: {c2}" -> the text of
// the correct choice; gold holds the label index and both choices for rank classification.
std::vector<Example> read_xcopa(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary);

}  // namespace stilts::data
