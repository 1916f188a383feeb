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

// PAN-X's own release, which keeps the test tags XTREME's copy drops: the WikiANN splits of
// Rahimi et al. (2019) in AmazonPhotos.zip, where {lang}.tar.gz holds the files dev, test and
// train. One "{lang}:token<TAB>tag" line per token, a blank line between sentences; the prefix
// up to the first ':' is dropped, as XTREME's panx_preprocess does. Tags are required. The
// split is the file's name, else ReadOptions::split; the language comes from ReadOptions; ids
// are XTREME's, {split}-{lang}-{sentence}.
std::vector<Example> read_panx_release(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary);

// What the readers of other tagging formats share with these: a tag outside the task's set is a
// RecordError at path:where, and a sentence becomes its example (target = the tags joined by
// spaces, empty when unlabeled; gold {labeled, tokens, tags}).
void check_tag(const TaggingTask& task, const std::string& tag, const std::string& path,
               const std::string& where);
Example tagging_example(const TaggingTask& task, std::string id, std::string language,
                        std::vector<std::string> tokens, std::vector<std::string> tags);

}  // namespace stilts::data
