// Published mT5 zero-shot scores (fine-tuned on English only, evaluated on every language of the
// task), per task and model size, so that `stilts report` can set the no-intermediate ("none")
// regime's scores beside them and a first run shows whether the baseline reproduces.
//
// Source: the mT5 repository's README (github.com/google-research/multilingual-t5, the
// "Zero-shot (English-only fine-tuning)" results as of November 2020), the same numbers as
// Xue et al. 2021, "mT5: A Massively Multilingual Pre-trained Text-to-Text Transformer",
// NAACL. Scores are the mean over the task's XTREME languages, English included: accuracy for
// XNLI and PAWS-X, F1 for WikiAnn (panx) and for the QA tasks (XQuAD, MLQA, TyDiQA-GoldP; F1
// alone, not the (EM + F1) / 2 headline stilts reports for QA). Only the numbers that table
// gives are here: no exact match, no other tasks.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace stilts::experiments {

struct PublishedScore {
  std::string task;    // stilts' task name: xnli, pawsx, panx, xquad, mlqa, tydiqa
  std::string model;   // a preset: mt5-small, mt5-base, mt5-large, mt5-xl, mt5-xxl
  std::string metric;  // "accuracy" or "f1", as in the per-language results' metrics
  double score = 0.0;  // percent
};

// Where the numbers come from, for the report to cite.
inline constexpr const char* kPublishedScoresSource =
    "mT5 README (github.com/google-research/multilingual-t5), zero-shot English-only "
    "fine-tuning, as of November 2020; Xue et al. 2021, mT5, NAACL";

// Every published score, by task then size.
const std::vector<PublishedScore>& published_zero_shot_scores();

// The published score of (task, model), or nullopt where the table has none.
std::optional<PublishedScore> published_zero_shot(const std::string& task,
                                                  const std::string& model);

}  // namespace stilts::experiments
