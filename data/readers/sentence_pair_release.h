// XNLI and PAWS-X in their own releases, which keep the test labels XTREME's preprocessing
// removes (docs/TASKS.md). Both are TSV files whose header line names the columns, read unquoted
// as XTREME reads them (a '"' is text):
//   XNLI-1.0/xnli.{dev,test}.tsv      every language in one file: 19 columns, of which language,
//                                     gold_label (entailment | neutral | contradiction),
//                                     sentence1 and sentence2;
//   x-final/{lang}/{dev_2k,test_2k}.tsv   id, sentence1, sentence2, label (0 | 1).
// Templates, targets and gold are the xnli and pawsx readers' (xnli.h, pawsx.h), labels
// required. Ids are XTREME's, {split}-{lang}-{row} with row counting the language's rows from 0,
// so that each example has the id of the same pair in XTREME's copy.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// The rows of ReadOptions::language, which must be given: the file holds every language. The
// split is the file name's, else ReadOptions::split.
std::vector<Example> read_xnli_release(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary);

// The language is the folder's name where it is a language code (x-final/{lang}/), else
// ReadOptions::language; the split is the file name's (dev_2k.tsv, test_2k.tsv), else
// ReadOptions::split.
std::vector<Example> read_pawsx_release(const std::string& path, const ReadOptions& options,
                                        ReadSummary& summary);

}  // namespace stilts::data
