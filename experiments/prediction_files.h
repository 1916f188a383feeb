// Readers for the prediction and gold files of the XTREME repository's evaluate.py, which lays
// both folders out as `<task>/test-<lang>.<ext>` and reads them per task:
//
//   one label per line (.tsv)        xnli, pawsx, tatoeba (read_label: each line stripped)
//   one tag per line (.tsv)          udpos, panx (read_tag: a blank line ends a sentence)
//   source<TAB>target pairs (.tsv)   bucc2018 (already thresholded: the threshold is chosen on
//                                    dev when the predictions are written, not by the scorer)
//   JSONL records with "label"       xcopa (read_xcopa, for gold and predictions alike)
//   SQuAD v1.1 JSON (.json)          xquad, mlqa, tydiqa gold; predictions {qid: answer}
//   {id: [ids]} JSON (.json)         mewslix (and LAReQA): gold and ranked predictions
//
// Every error names the file and the line or JSON path, and what was expected, in the form of
// data/readers ("file:line: what", "file:data[0].paragraphs[2].qas[1].id: what").
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "experiments/metrics/squad.h"

namespace stilts::experiments {

// The lines of a one-label-per-line file, each stripped of surrounding whitespace as Python's
// str.strip() does (Unicode whitespace, metrics/python_text.h), blank lines kept as empty
// labels. Lines end at "\n" or "\r\n" (Python's universal newlines would also end one at a lone
// "\r").
std::vector<std::string> read_label_lines(const std::string& path);

// The sentences of a tag file: a blank (or whitespace-only) line ends a sentence, so two blank
// lines in a row make an empty sentence, as XTREME's read_tag does; a last sentence without a
// blank line after it counts.
std::vector<std::vector<std::string>> read_tag_sentences(const std::string& path);

// BUCC: one "<source id>\t<target id>" pair per line (ids stripped); any other line is an
// error.
std::vector<std::pair<std::string, std::string>> read_id_pairs(const std::string& path);

// XCOPA: one JSON object per line, of which only "label" is read. The label is kept in its
// JSON spelling (0 and "0" differ, as they do for Python's ==).
std::vector<std::string> read_jsonl_labels(const std::string& path);

// SQuAD v1.1 JSON: {"data": [article...]} or the bare article list, each article
// {"paragraphs": [{"qas": [{"id", "answers": [{"text"}...]}...]}...]}; the contexts and
// answer offsets are not read (the scorers compare texts).
std::vector<metrics::QaQuestion> read_squad_gold(const std::string& path);

// QA predictions: a JSON object {question id: answer text}.
metrics::QaPredictions read_qa_predictions(const std::string& path);

// Mewsli-X and LAReQA: a JSON object {example id: [id, ...]}, gold (Mewsli-X: a one-element
// list) or ranked predictions, best first.
std::map<std::string, std::vector<std::string>> read_ranked_ids(const std::string& path);

}  // namespace stilts::experiments
