// Tatoeba as XTREME ships it: tatoeba/{xx}-en.{xx} and tatoeba/{xx}-en.en, one sentence per
// line. The English side is sorted alphabetically, so line i of the {xx} side is not line i
// of the English side; the gold is a separate file of English line indices, one per {xx}
// line, read from tatoeba/test-{xx}.tsv when present (evaluate.py's gold format) and otherwise
// marked absent.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// `path` is the {xx} side. Returns one query per {xx} sentence (input = the sentence, gold
// {role: query, gold_index}) followed by one candidate per English sentence (language "en",
// gold {role: candidate, index}).
std::vector<Example> read_tatoeba(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary);

}  // namespace stilts::data
