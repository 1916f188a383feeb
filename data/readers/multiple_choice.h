// The English multiple-choice intermediate tasks in their native JSON-lines releases:
//   HellaSwag  hellaswag_{train,val,test}.jsonl: {ind, ctx, endings: [4], label: 0-3}
//   Cosmos QA  {train,valid,test}.jsonl: {id, context, question, answer0..answer3, label: 0-3}
//   CommonsenseQA {train,dev,test}_rand_split.jsonl: {id, question: {stem, choices: [{label,
//              text}]}, answerKey: A-E}
//   Social IQa {train,dev}.jsonl {context, question, answerA, answerB, answerC} with the labels
//              (1, 2 or 3, one per line) in the companion {train,dev}-labels.lst
// Test releases have no labels; only there (ReadOptions::split == "test") may they be absent.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// "{task}: [context: {c}] [question: {q}] choice1: {a} choice2: {b} ..." -> the correct
// choice's text; gold {labeled, choices, label} for rank classification over the choices.
std::vector<Example> read_hellaswag(const std::string& path, const ReadOptions& options,
                                    ReadSummary& summary);
std::vector<Example> read_cosmosqa(const std::string& path, const ReadOptions& options,
                                   ReadSummary& summary);
std::vector<Example> read_commonsenseqa(const std::string& path, const ReadOptions& options,
                                        ReadSummary& summary);
// Reads the labels from the path with ".jsonl" replaced by "-labels.lst"; a labels file whose
// line count differs from the records' cannot be matched up and always throws.
std::vector<Example> read_socialiqa(const std::string& path, const ReadOptions& options,
                                    ReadSummary& summary);

}  // namespace stilts::data
