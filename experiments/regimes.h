// The intermediate regimes a grid may name and a run.json records, in the report's order. Each is
// an intermediate stage defined by its corpora in the grid ([intermediate.<regime>]); the name
// says what the report compares it with:
//   none          no intermediate stage: the target task is trained on the pretrained model
//   english       the intermediate task(s) in English only
//   multilingual  the same task(s) with translated copies in several languages, same token budget
//   shuffled      the multilingual mix with its labels shuffled (the same random label for an
//                 example in every language): a negative control, which teaches the languages'
//                 inputs but not the mapping the target task needs (experiments/checks.h)
//   mlm           span corruption on the target languages' text instead of a task
#pragma once

#include <string>
#include <vector>

namespace stilts::experiments {

const std::vector<std::string>& intermediate_regimes();

bool is_intermediate_regime(const std::string& name);

// "none, english, multilingual, shuffled, mlm", for messages and help texts.
std::string intermediate_regime_list();

}  // namespace stilts::experiments
