// Mewsli-X as XTREME ships it (mewslix/), three JSONL files told apart by name:
// - wikinews_mentions/{dev,test}-{lang}.jsonl: {context: {text, sentence_spans, language, ...},
//   mentions: [{example_id, mention_span: {start, end, text}, entity_id}]}, one query per
//   mention (gold {role: query, entity_id});
// - wikinews_mentions-{dev,test}.jsonl: the same records for every language in one file, as
//   google-research's get-mewsli-x.sh writes them, with the test entity_ids XTREME's split blanks;
//   read for ReadOptions::language (which must be given), the records whose context.language it
//   is, entity_id required;
// - candidate_set_entities.jsonl: {entity_id, title, description, sentence_spans,
//   description_language, description_url}, one candidate per entity (id = the QID);
// - wikipedia_pairs-{train,dev}.jsonl: {contextual_mention: {context, mention}, entity}, the
//   English training pairs (input = the mention query, target = the entity description).
// Offsets count Unicode code points.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// Query texts follow XTREME's baseline (utils_mewslix.preprocess_mention): the mention, a
// colon, then its sentence with the mention set off as "{ mention }"; candidate texts are the
// description's sentences joined by spaces.
std::vector<Example> read_mewslix(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary);

}  // namespace stilts::data
