// Tatoeba, in two layouts.
//
// LASER's aligned originals (facebookresearch/LASER, data/tatoeba/v1; experiments/data/
// download.sh copies them to tatoeba/v1/): tatoeba.{xxx}-eng.{xxx} and tatoeba.{xxx}-eng.eng,
// {xxx} a three-letter code, one sentence per line, line i of one the translation of line i of
// the other. The gold is the identity alignment: query i's answer is English line i.
//
// XTREME's copy (utils_preprocess.py, tatoeba_preprocess): tatoeba/{xx}-en.{xx} unchanged and
// tatoeba/{xx}-en.en sorted alphabetically, with no gold file, so the pairs are lost. That
// layout is read only with a gold file of English line indices, one per {xx} line,
// tatoeba/test-{xx}.tsv (evaluate.py's gold format); without one it is refused, naming the
// LASER files to use instead.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// The three-letter code of LASER's Tatoeba files for an XTREME language code (XTREME's
// utils_preprocess.py table: ar -> ara, fa -> pes, sw -> swh, zh -> cmn, ...). Throws
// std::invalid_argument naming the code for a language without Tatoeba files.
std::string_view tatoeba_laser_code(std::string_view language);

// `path` is the {xxx} (LASER) or {xx} (XTREME) side. Returns one query per {xx} sentence (input
// = the sentence, gold {role: query, labeled: true, gold_index}) followed by one candidate per
// English sentence (language "en", gold {role: candidate, index}). The language is the
// two-letter code in both layouts.
std::vector<Example> read_tatoeba(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary);

}  // namespace stilts::data
