// BUCC 2018 as XTREME ships it: bucc2018/{xx}-en.{dev,test}.{xx} and .en, lines
// "{id}<TAB>{sentence}", and {xx}-en.dev.gold, lines "{xx id}<TAB>{en id}" (XTREME deletes the
// test gold, so test queries are unlabeled).
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// `path` is the {xx} side. Returns one query per {xx} sentence (id = the BUCC id, input = the
// sentence, gold {role: query, gold_ids: the English ids paired with it, possibly none})
// followed by one candidate per English sentence (gold {role: candidate}).
std::vector<Example> read_bucc(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary);

}  // namespace stilts::data
