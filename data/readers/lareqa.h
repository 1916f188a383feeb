// LAReQA (XQuAD-R) as XTREME ships it: lareqa/xquad-r/{lang}.json, SQuAD-JSON whose
// paragraphs also carry "sentence_breaks": [[start, end], ...] in code points. The retrieval
// candidates are the sentences; a question's answer is the sentence holding answer_start,
// in every language, since XQuAD-R questions share their ids across the 11 languages.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// Returns, per paragraph, one candidate per sentence (id "{lang}_{paragraph}_{sentence}" as
// XTREME's utils_lareqa names it, input = the sentence, gold {role: candidate, context}) and one
// query per question (id "{question id}_{lang}", input = the question, gold {role: query,
// question_id, labeled, answer_candidate: the id of its answer sentence in this file}). The
// scorer unions the answer_candidate of one question_id over all languages to get its correct
// answers.
std::vector<Example> read_lareqa(const std::string& path, const ReadOptions& options,
                                 ReadSummary& summary);

}  // namespace stilts::data
