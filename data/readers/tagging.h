// Token tagging files as XTREME writes them for UD-POS and PAN-X (WikiANN):
// {udpos,panx}/{train,dev,test}-{lang}.tsv, one "token<TAB>tag" line per token, a blank line
// between sentences; test files hold the token alone.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

struct TaggingTask {
  std::string prefix;             // the input is "{prefix}: {tokens joined by spaces}"
  std::vector<std::string> tags;  // the tag set; any other tag is a bad record
};

const TaggingTask& udpos_task();  // the 17 Universal POS tags
const TaggingTask& panx_task();   // IOB2 over PER, ORG, LOC

// One example per sentence: target = tags joined by spaces, gold = {tokens, tags}.
std::vector<Example> read_tagging(const std::string& path, const TaggingTask& task,
                                  const ReadOptions& options, ReadSummary& summary);

}  // namespace stilts::data
