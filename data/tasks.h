// The task table: one entry per task with everything stilts knows about it, so that a task is
// added, or changed, in one place. `stilts prepare` reads a task's files with its reader;
// `stilts eval` finds its files in the download layout, runs its inference mode over its
// languages and writes its prediction format; `stilts score` and the reports score that format
// with its metric and aggregate it by its benchmarks; the help texts and the "unknown task"
// messages list the table's names.
//
// The table lives in data/ because the readers do and data/ may not include experiments/
// (nor core/): what experiments/ does with a task (the inference modes of eval_stage.h, the
// metrics of experiments/metrics/, the prediction file readers of prediction_files.h) is named
// here by an enum, and experiments/ maps each enum value to its code. A new task that reuses
// a mode, a metric and a format touches the table and its reader only.
//
// The label words (the targets rank classification compares) and tag sets stay with the reader
// that writes them as targets (xnli_task(), pawsx_task(), udhr_article_labels(), udpos_task()
// ...); a task's entry takes them from there, so training and evaluation cannot disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

using Reader = std::vector<Example> (*)(const std::string& path, const ReadOptions& options,
                                        ReadSummary& summary);

// How `stilts eval` runs the model on a task (experiments/eval_stage.h).
enum class InferenceMode {
  kRankLabels,   // rank classification over the label words
  kRankChoices,  // rank classification over each example's gold.choices
  kAnswer,       // greedy decoding of an answer text
  kTags,         // greedy decoding of one tag per input token
  kRetrieve,     // each query's nearest candidate of the same file, by cosine of embeddings
  kBucc,         // bitext mining above the cosine threshold that maximizes F1 on dev
  kLareqa,       // each question's top 20 among the answer sentences pooled over languages
  kMewslix,      // each mention's top 20 among Mewsli-X's candidate entities
};

// The metric that scores a task's prediction files (experiments/metrics/).
enum class Metric {
  kAccuracy,    // accuracy.h, headline accuracy
  kSeqeval,     // seqeval.h chunk P/R/F1, headline f1
  kBuccF1,      // bucc.h pair-set P/R/F1, headline f1
  kSquad,       // squad.h EM and F1, headline (exact_match+f1)/2
  kMlqa,        // mlqa.h EM and F1, headline (exact_match+f1)/2
  kMewslixMap,  // retrieval.h MRR@20 reported as map@20
  kLareqaMap,   // retrieval.h mAP@20, one value pooled over the questions of all languages
};

// The prediction and label files' format (experiments/prediction_files.h).
enum class PredictionFormat {
  kLabelLines,    // .tsv, one label a line
  kTagSentences,  // .tsv, one tag a line, a blank line after each sentence
  kIdPairs,       // .tsv, "<source id>\t<target id>" a line
  kJsonlLabels,   // .jsonl, one {"id", "label"} a line
  kSquadJson,     // .json, SQuAD v1.1 gold and {question id: answer} predictions
  kRankedIds,     // .json, {id: [ids]}
};

// The file extension of a prediction format: tsv, jsonl or json.
std::string_view file_extension(PredictionFormat format);

// The benchmarks `stilts score --xtreme-version` aggregates (experiments/metrics/categories.h).
enum class Benchmark { kXtreme, kXtremeR, kUdhr, kSynthetic };

// A task's languages in one benchmark, in evaluate.py's order (XTREME_TASK2LANGS,
// XTREME_R_TASK2LANGS).
struct BenchmarkLanguages {
  Benchmark benchmark;
  std::vector<std::string> languages;
};

// What `stilts eval` and `stilts score` need of a task.
struct Evaluation {
  // The file of a (split, language) under the download folder (the layout of XTREME's
  // download_data.sh): {split} is test or dev (dev written as dev_name), {lang} the language,
  // {udhr} the code of the language's UDHR declaration (udhr_file_code), {laser} the
  // three-letter code of LASER's Tatoeba files (tatoeba_laser_code).
  std::string layout;
  std::string dev_name = "dev";
  // What the test split reads where XTREME's test file has no labels: the labeled original, as
  // experiments/data/download.sh keeps it under <task>/original/ (docs/TASKS.md), in layout's
  // placeholders and {tydiqa}, TyDi QA's name of the language (tydiqa_language_name). It may
  // name a folder where one language spans several files (UD-POS's treebanks). Empty: test
  // reads `layout` as dev does.
  std::string test_layout = {};
  // The reader of test_layout's format where the task's own does not read it.
  Reader test_read = nullptr;
  // The benchmarks that score the task, with its languages in each; stilts eval scores its
  // results with the first (XTREME-R where both have the task).
  std::vector<BenchmarkLanguages> benchmarks;
  // The languages stilts eval and stilts score take for the task when the first benchmark
  // lists none (LAReQA: the XQuAD-R files, which evaluate.py's table leaves out).
  std::vector<std::string> pooled_languages = {};
  InferenceMode mode;
  Metric metric;
  PredictionFormat format;
  // kRankLabels: the candidates (the reader's target words) and what each stands for in
  // XTREME's prediction and label files, by label index.
  std::vector<std::string> label_words = {};
  std::vector<std::string> file_labels = {};
  // kTags: the tag set, the only words tag decoding may emit (one per input token).
  std::vector<std::string> tags = {};
  // kAnswer: generated tokens per example unless --max-length says otherwise.
  int64_t max_length = 0;
  // What `stilts eval --help` says of the task beyond its name, if anything.
  std::string note = {};

  // The languages of `--langs all`: pooled_languages, else the first benchmark's.
  const std::vector<std::string>& languages() const;
  // The task's languages in `benchmark`, or nullptr when the benchmark does not score it.
  const std::vector<std::string>* languages_in(Benchmark benchmark) const;
};

struct TaskSpec {
  std::string name;
  Reader read;
  // The language of files whose names do not say it, when ReadOptions::language is empty: the
  // English-only training sets.
  std::string default_language = {};
  // The reader also takes a folder (the UDHR package) besides a file.
  bool reads_folders = false;
  // The reader selects paragraphs by article (ReadOptions::articles): the UDHR tasks.
  bool reads_articles = false;
  // Absent for the tasks stilts only trains on (squad, the English intermediate tasks, udhr).
  std::optional<Evaluation> evaluation = std::nullopt;
};

// The evaluation layout of `task` for (split, language) under data_dir: test_layout for test
// where the task has one. Throws std::invalid_argument for a task without evaluation, a split
// other than test or dev, and (naming the task) a {udhr} language without a declaration.
std::string data_file(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                      const std::string& language);

// ReadOptions::articles for `task` from an --articles value ("0,11-20", parse_udhr_articles of
// data/readers/udhr.h). Throws std::invalid_argument for a malformed value, or for a task whose
// reader does not select articles, naming the tasks that do.
std::vector<int64_t> task_articles(const TaskSpec& task, const std::string& selection);

// Every task, in table order (the order of every list of task names stilts prints).
const std::vector<TaskSpec>& task_table();

// The task named `name`, or nullptr.
const TaskSpec* find_task(std::string_view name);
// The task named `name`; throws std::invalid_argument "unknown task 'X' (known tasks: ...)".
const TaskSpec& task_spec(std::string_view name);

// The evaluation of the task named `name`; throws std::invalid_argument "unknown task 'X';
// supported: ..." (the tasks with an evaluation) for any other name.
const Evaluation& task_evaluation(std::string_view name);

// The names of every task / of the tasks stilts eval runs, in table order.
std::vector<std::string> task_names();
std::vector<std::string> eval_task_names();
// The tasks stilts eval answers with sentence embeddings (no target training needed).
std::vector<std::string> retrieval_task_names();
// Names joined by ", ", as every list of tasks stilts prints them.
std::string name_list(const std::vector<std::string>& names);
// The eval tasks for `stilts eval --help`: "xnli, pawsx, ..., bucc2018: <note>, ...".
std::string eval_task_help();

// Reads `path` with the reader of `task`, ReadOptions::language defaulting to the task's
// default_language. Throws as task_spec for an unknown task, and as task_articles for
// ReadOptions::articles given to a task that does not select articles.
std::vector<Example> read_task(const std::string& task, const std::string& path,
                               const ReadOptions& options, ReadSummary& summary);

// Reads the data_file of an evaluated task for ReadOptions::split: with test_read for test where
// the task has one, else as read_task.
std::vector<Example> read_evaluation_file(const TaskSpec& task, const std::string& path,
                                          const ReadOptions& options, ReadSummary& summary);

}  // namespace stilts::data
