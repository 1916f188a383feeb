// The synthetic study's files (data/synthetic_study.h writes them): one reader per task. Their
// languages are the study's, so the commands that read them take its language table
// (--languages <study>/languages.tsv, data/languages.h).
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// synth-text, `text/{lang}.txt`: one example per non-empty line, unlabeled (span corruption
// makes the targets). Id "{lang}-{line}" (1-based), the language the file's stem or
// options.language.
std::vector<Example> read_synthetic_text(const std::string& path, const ReadOptions& options,
                                         ReadSummary& summary);

// synth-topic and synth-object, `{split}-{lang}.tsv` lines `id<TAB>sentence<TAB>label`, the label
// one of synthetic_topic_labels(): input "<prefix>: <sentence>" with the prefix "subject" or
// "object" (which noun's topic is asked), target the label; gold {labeled, label, label_index}.
// A line without three columns, or with another label, is a RecordError naming file and line.
std::vector<Example> read_synthetic_topic(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary);
std::vector<Example> read_synthetic_object(const std::string& path, const ReadOptions& options,
                                           ReadSummary& summary);

// synth-align, `align/{lang}.tsv` lines `id<TAB>sentence`, retrieval of each sentence's English
// original in `en.tsv` beside it (the same id): queries first (role "query", gold_index the
// English line), then every English sentence (role "candidate", index its line). A query whose
// id English lacks is returned with role "unaligned".
std::vector<Example> read_synthetic_align(const std::string& path, const ReadOptions& options,
                                          ReadSummary& summary);

}  // namespace stilts::data
