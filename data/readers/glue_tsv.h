// GLUE's TSV releases of the intermediate tasks QQP and SST-2: a header line naming the
// columns, then one unquoted row per example (GLUE's loaders read them with QUOTE_NONE).
//   QQP/{train,dev}.tsv:   id, qid1, qid2, question1, question2, is_duplicate (0 | 1)
//   QQP/test.tsv:          id, question1, question2
//   SST-2/{train,dev}.tsv: sentence, label (0 | 1)
//   SST-2/test.tsv:        index, sentence
// The split comes from the file name ({train,dev,test}.tsv), else from ReadOptions::split.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// "qqp question1: {q1} question2: {q2}" -> not_duplicate | duplicate (T5's GLUE recipe).
std::vector<Example> read_qqp(const std::string& path, const ReadOptions& options,
                              ReadSummary& summary);

// "sst2 sentence: {s}" -> negative | positive (T5's GLUE recipe).
std::vector<Example> read_sst2(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary);

}  // namespace stilts::data
