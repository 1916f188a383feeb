// Token tagging files as XTREME writes them for UD-POS and PAN-X (WikiANN):
// {udpos,panx}/{train,dev,test}-{lang}.tsv, one "token<TAB>tag" line per token, a blank line
// between sentences; test files hold the token alone. The CCGbank supertag files of the
// intermediate-task study (English; split and language from ReadOptions) have the same form.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

struct TaggingTask {
  std::string prefix;  // the input is "{prefix}: {tokens joined by spaces}"
  // The tag set; any other tag is a bad record. Empty for an open set (CCG supertags are
  // built from combinators, so the set is whatever the treebank holds): any non-empty tag.
  std::vector<std::string> tags;
};

const TaggingTask& udpos_task();  // the 17 Universal POS tags
const TaggingTask& panx_task();   // IOB2 over PER, ORG, LOC
const TaggingTask& ccg_task();    // CCG supertags, an open set

// One example per sentence: target = tags joined by spaces, gold = {tokens, tags}.
std::vector<Example> read_tagging(const std::string& path, const TaggingTask& task,
                                  const ReadOptions& options, ReadSummary& summary);

}  // namespace stilts::data
