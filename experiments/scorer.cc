#include "experiments/scorer.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <set>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/languages.h"
#include "data/tasks.h"
#include "experiments/metrics/accuracy.h"
#include "experiments/metrics/bucc.h"
#include "experiments/metrics/mlqa.h"
#include "experiments/metrics/python_text.h"
#include "experiments/metrics/retrieval.h"
#include "experiments/metrics/seqeval.h"
#include "experiments/metrics/squad.h"
#include "experiments/prediction_files.h"

namespace stilts::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::size_t kRetrievalTopK = 20;

// The languages scored for a task: the benchmark's, or the pooled ones where it lists none
// (LAReQA).
const std::vector<std::string>& official_languages(metrics::Benchmark benchmark,
                                                   const std::string& task) {
  const data::Evaluation& evaluation = data::task_evaluation(task);
  return evaluation.pooled_languages.empty() ? metrics::task_languages(benchmark, task)
                                             : evaluation.pooled_languages;
}

// Whether the task's headline is one value over the queries of all its languages.
bool pooled_over_languages(const std::string& task) {
  return data::task_evaluation(task).metric == data::Metric::kLareqaMap;
}

std::string format_score(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

// Runs a metric, naming both files in whatever it throws (unequal lengths, empty files).
template <class Metric>
auto guarded_metric(const std::string& prediction_file, const std::string& label_file,
                    Metric&& metric) {
  try {
    return metric();
  } catch (const std::exception& error) {
    throw std::runtime_error(prediction_file + " against " + label_file + ": " + error.what());
  }
}

void check_counts(std::size_t predictions, std::size_t labels, const std::string& what,
                  const std::string& prediction_file, const std::string& label_file) {
  if (predictions != labels)
    throw std::runtime_error("unequal numbers of " + what + ": " + std::to_string(predictions) +
                             " in " + prediction_file + ", " + std::to_string(labels) + " in " +
                             label_file);
}

// The questions of one LAReQA language as metric input, candidate ids numbered in order of
// appearance.
std::vector<metrics::RankedQuery> lareqa_queries(
    const std::map<std::string, std::vector<std::string>>& gold,
    const std::map<std::string, std::vector<std::string>>& predictions, std::size_t& unanswered) {
  std::unordered_map<std::string, std::int64_t> numbers;
  const auto number = [&](const std::string& id) {
    return numbers.emplace(id, static_cast<std::int64_t>(numbers.size())).first->second;
  };
  std::vector<metrics::RankedQuery> queries;
  for (const auto& [question, targets] : gold) {
    metrics::RankedQuery query;
    for (const std::string& id : targets) query.targets.push_back(number(id));
    const auto ranked = predictions.find(question);
    if (ranked == predictions.end())
      ++unanswered;
    else
      for (const std::string& id : ranked->second) query.ranked.push_back(number(id));
    queries.push_back(std::move(query));
  }
  return queries;
}

// An accuracy task's predicted and gold labels, one per example in each file's order, checked
// to be as many.
std::pair<std::vector<std::string>, std::vector<std::string>> read_label_pair(
    const data::Evaluation& evaluation, const std::string& prediction_file,
    const std::string& label_file) {
  const bool jsonl = evaluation.format == data::PredictionFormat::kJsonlLabels;
  auto predictions = jsonl ? read_jsonl_labels(prediction_file) : read_label_lines(prediction_file);
  auto labels = jsonl ? read_jsonl_labels(label_file) : read_label_lines(label_file);
  check_counts(predictions.size(), labels.size(), "lines", prediction_file, label_file);
  return {std::move(predictions), std::move(labels)};
}

void set_metric(ScoredLanguage& scored, const std::string& name, double value) {
  scored.scores.metrics[name] = value;
}

// Scores one (task, language) pair of files. LAReQA's queries are appended to `lareqa_pool`.
ScoredLanguage score_language(const std::string& task, const std::string& language,
                              const std::string& prediction_file, const std::string& label_file,
                              std::vector<metrics::RankedQuery>& lareqa_pool) {
  ScoredLanguage scored;
  scored.scores.language = language;
  scored.prediction_file = prediction_file;
  scored.label_file = label_file;
  const auto guard = [&](auto&& metric) {
    return guarded_metric(prediction_file, label_file, metric);
  };
  const data::Evaluation& evaluation = data::task_evaluation(task);
  std::vector<ExampleScore> per_example;
  switch (evaluation.metric) {
    case data::Metric::kAccuracy: {
      const auto [predictions, labels] = read_label_pair(evaluation, prediction_file, label_file);
      scored.examples = labels.size();
      set_metric(scored, "accuracy", guard([&] { return metrics::accuracy(labels, predictions); }));
      for (std::size_t i = 0; i < labels.size(); ++i)
        per_example.push_back({std::to_string(i), guard([&] {
                                 return metrics::accuracy({labels[i]}, {predictions[i]});
                               })});
      break;
    }
    case data::Metric::kSeqeval: {
      const auto predictions = read_tag_sentences(prediction_file);
      const auto labels = read_tag_sentences(label_file);
      check_counts(predictions.size(), labels.size(), "sentences", prediction_file, label_file);
      scored.examples = labels.size();
      const metrics::SpanScores span =
          guard([&] { return metrics::seqeval_scores(labels, predictions); });
      set_metric(scored, "f1", span.f1);
      set_metric(scored, "precision", span.precision);
      set_metric(scored, "recall", span.recall);
      break;
    }
    case data::Metric::kBuccF1: {
      const metrics::BuccScores bucc = guard([&] {
        return metrics::bucc_f1(read_id_pairs(label_file), read_id_pairs(prediction_file));
      });
      scored.examples = bucc.gold;
      set_metric(scored, "f1", bucc.f1);
      set_metric(scored, "precision", bucc.precision);
      set_metric(scored, "recall", bucc.recall);
      break;
    }
    case data::Metric::kSquad:
    case data::Metric::kMlqa: {
      const auto questions = read_squad_gold(label_file);
      const auto predictions = read_qa_predictions(prediction_file);
      const metrics::QaScores qa = guard([&] {
        return evaluation.metric == data::Metric::kMlqa
                   ? metrics::mlqa_evaluate(questions, predictions, language)
                   : metrics::squad_evaluate(questions, predictions);
      });
      scored.examples = qa.total;
      scored.unanswered = qa.missing_ids.size();
      set_metric(scored, "exact_match", qa.exact_match);
      set_metric(scored, "f1", qa.f1);
      for (const metrics::QaQuestion& question : questions) {
        const metrics::QaScores one = guard([&] {
          return evaluation.metric == data::Metric::kMlqa
                     ? metrics::mlqa_evaluate({question}, predictions, language)
                     : metrics::squad_evaluate({question}, predictions);
        });
        per_example.push_back({question.id, (one.exact_match + one.f1) / 2});
      }
      break;
    }
    case data::Metric::kMewslixMap: {
      const auto gold = read_ranked_ids(label_file);
      const auto ranked = read_ranked_ids(prediction_file);
      std::vector<metrics::MewslixGold> examples;
      for (const auto& [id, labels] : gold) examples.push_back({id, labels});
      const std::unordered_map<std::string, std::vector<std::string>> predictions(ranked.begin(),
                                                                                  ranked.end());
      const metrics::MewslixScores mewslix =
          guard([&] { return metrics::mewslix_evaluate(examples, predictions, kRetrievalTopK); });
      scored.examples = examples.size();
      scored.unanswered = mewslix.unpredicted;
      set_metric(scored, "map@20", mewslix.map_at_k);
      static const std::vector<std::string> kNone;
      for (const auto& [id, labels] : gold) {
        if (labels.empty())
          throw std::runtime_error(label_file + ": example " + id + " has an empty gold list");
        const auto it = ranked.find(id);
        per_example.push_back(
            {id, 100 * metrics::reciprocal_rank_at_k(python_text::strip(labels.front()),
                                                     it == ranked.end() ? kNone : it->second,
                                                     kRetrievalTopK)});
      }
      break;
    }
    case data::Metric::kLareqaMap: {
      const auto gold = read_ranked_ids(label_file);
      const auto ranked = read_ranked_ids(prediction_file);
      std::vector<metrics::RankedQuery> queries = lareqa_queries(gold, ranked, scored.unanswered);
      scored.examples = queries.size();
      set_metric(scored, "map@20", guard([&] {
                   return metrics::mean_average_precision_at_k(queries, kRetrievalTopK);
                 }));
      std::size_t i = 0;
      for (const auto& entry : gold) {
        const metrics::RankedQuery& query = queries[i++];
        per_example.push_back(
            {entry.first,
             100 * metrics::average_precision_at_k(query.targets, query.ranked, kRetrievalTopK)});
      }
      lareqa_pool.insert(lareqa_pool.end(), queries.begin(), queries.end());
      break;
    }
  }
  // The corpus-level metrics (seqeval's chunk F1, BUCC's F1) have no score per example.
  if (evaluation.metric != data::Metric::kSeqeval && evaluation.metric != data::Metric::kBuccF1)
    scored.example_scores = std::move(per_example);
  if (metrics::is_qa_task(task))
    scored.headline = (scored.scores.metrics["exact_match"] + scored.scores.metrics["f1"]) / 2;
  else
    scored.headline = scored.scores.metrics.at(metrics::headline_metric(task));
  return scored;
}

// The `test-<lang>.<ext>` files of a folder, by language; everything else is noted and skipped.
std::map<std::string, std::string> language_files(const fs::path& folder, const std::string& task,
                                                  const std::string& extension,
                                                  const std::vector<std::string>& languages,
                                                  const std::string& benchmark,
                                                  std::vector<std::string>& notes) {
  std::map<std::string, std::string> files;
  std::vector<fs::path> entries;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder))
    entries.push_back(entry.path());
  std::sort(entries.begin(), entries.end());
  const std::string suffix = "." + extension;
  for (const fs::path& path : entries) {
    const std::string name = path.filename().string();
    std::string language;
    if (name.rfind("test-", 0) == 0 && name.size() > 5 + suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      language = name.substr(5, name.size() - 5 - suffix.size());
    if (!language.empty() &&
        std::find(languages.begin(), languages.end(), language) != languages.end() &&
        fs::is_regular_file(path)) {
      files[language] = path.string();
      continue;
    }
    const bool known = !language.empty() && data::find_language(language) != nullptr;
    notes.push_back("ignored " + path.string() + ": " +
                    (known ? benchmark + " does not score " + task + " in " + language
                           : "expected test-<lang>" + suffix + " of a " + task + " language"));
  }
  return files;
}

void check_folder(const std::string& folder, const char* what) {
  if (!fs::is_directory(folder))
    throw std::runtime_error(std::string(what) + " folder " + folder + " does not exist");
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

}  // namespace

metrics::Benchmark parse_benchmark(std::string_view name) {
  if (name == "xtreme") return metrics::Benchmark::kXtreme;
  if (name == "xtreme-r") return metrics::Benchmark::kXtremeR;
  if (name == "udhr") return metrics::Benchmark::kUdhr;
  if (name == "synthetic") return metrics::Benchmark::kSynthetic;
  throw std::invalid_argument("unknown XTREME version '" + std::string(name) +
                              "' (expected xtreme, xtreme-r, udhr or synthetic)");
}

std::string benchmark_name(metrics::Benchmark benchmark) {
  if (benchmark == metrics::Benchmark::kUdhr) return "udhr";
  if (benchmark == metrics::Benchmark::kSynthetic) return "synthetic";
  return benchmark == metrics::Benchmark::kXtreme ? "xtreme" : "xtreme-r";
}

std::string benchmark_choices() {
  std::string text;
  const metrics::Benchmark benchmarks[] = {metrics::Benchmark::kXtreme,
                                           metrics::Benchmark::kXtremeR, metrics::Benchmark::kUdhr,
                                           metrics::Benchmark::kSynthetic};
  for (const metrics::Benchmark benchmark : benchmarks) {
    if (!text.empty()) text += benchmark == metrics::Benchmark::kSynthetic ? " or " : ", ";
    text += benchmark_name(benchmark) + " (" +
            data::name_list(metrics::benchmark_tasks(benchmark)) + ")";
  }
  return text;
}

std::string task_file_extension(std::string_view task) {
  return std::string(data::file_extension(data::task_evaluation(task).format));
}

ScoreReport score_folders(const std::string& predictions_dir, const std::string& labels_dir,
                          metrics::Benchmark benchmark) {
  check_folder(predictions_dir, "predictions");
  check_folder(labels_dir, "labels");
  ScoreReport report;
  report.benchmark = benchmark;
  report.predictions_dir = predictions_dir;
  report.labels_dir = labels_dir;
  const std::string name = benchmark_name(benchmark);
  const std::vector<std::string> tasks = metrics::benchmark_tasks(benchmark);

  // Folders that are no task of the benchmark.
  for (const std::string& root : {predictions_dir, labels_dir}) {
    std::vector<fs::path> entries;
    for (const fs::directory_entry& entry : fs::directory_iterator(root))
      entries.push_back(entry.path());
    std::sort(entries.begin(), entries.end());
    for (const fs::path& path : entries)
      if (std::find(tasks.begin(), tasks.end(), path.filename().string()) == tasks.end())
        report.notes.push_back("ignored " + path.string() + ": not a task folder of " + name);
  }

  std::map<std::string, double> complete_tasks;
  for (const std::string& task : tasks) {
    const fs::path prediction_folder = fs::path(predictions_dir) / task;
    const fs::path label_folder = fs::path(labels_dir) / task;
    const bool have_predictions = fs::is_directory(prediction_folder);
    const bool have_labels = fs::is_directory(label_folder);
    if (!have_predictions && !have_labels) continue;
    if (!have_predictions || !have_labels) {
      report.notes.push_back(
          (have_predictions
               ? prediction_folder.string() + ": no labels folder " + label_folder.string()
               : label_folder.string() + ": no predictions folder " + prediction_folder.string()) +
          "; " + task + " not scored");
      continue;
    }
    const std::string extension = task_file_extension(task);
    const std::vector<std::string>& languages = official_languages(benchmark, task);
    const auto predictions =
        language_files(prediction_folder, task, extension, languages, name, report.notes);
    const auto labels =
        language_files(label_folder, task, extension, languages, name, report.notes);

    ScoredTask scored;
    scored.task = task;
    scored.headline_metric = metrics::headline_metric(task);
    std::vector<metrics::RankedQuery> lareqa_pool;
    for (const std::string& language : languages) {
      const auto prediction = predictions.find(language);
      const auto label = labels.find(language);
      if (prediction != predictions.end() && label != labels.end()) {
        scored.languages.push_back(
            score_language(task, language, prediction->second, label->second, lareqa_pool));
        continue;
      }
      scored.missing_languages.push_back(language);
      if (prediction != predictions.end())
        report.notes.push_back(prediction->second + ": no label file " +
                               (label_folder / fs::path(prediction->second).filename()).string());
      else if (label != labels.end())
        report.notes.push_back(label->second + ": no prediction file " +
                               (prediction_folder / fs::path(label->second).filename()).string());
    }
    if (scored.languages.empty()) {
      report.notes.push_back(task + ": no language has both a prediction and a label file");
      continue;
    }
    std::vector<metrics::LanguageScores> scores;
    for (const ScoredLanguage& language : scored.languages) scores.push_back(language.scores);
    scored.summary = metrics::summarize_task(task, scores);
    if (pooled_over_languages(task))  // one mAP@20 over the questions of every language
      scored.summary.avg_metric = metrics::mean_average_precision_at_k(lareqa_pool, kRetrievalTopK);
    if (scored.complete())
      complete_tasks[task] = *scored.summary.avg_metric;
    else
      report.notes.push_back(task + ": " + std::to_string(scored.languages.size()) + " of " +
                             std::to_string(languages.size()) + " languages (missing " +
                             joined(scored.missing_languages, " ") +
                             "); left out of the group and overall scores");
    report.tasks.push_back(std::move(scored));
  }
  report.overall = metrics::aggregate(benchmark, complete_tasks);
  return report;
}

std::string text_report(const ScoreReport& report) {
  std::string out = "scores of " + report.predictions_dir + " against " + report.labels_dir + " (" +
                    benchmark_name(report.benchmark) + ", x100)\n";
  for (const ScoredTask& task : report.tasks) {
    const std::vector<std::string>& official = official_languages(report.benchmark, task.task);
    out += "\n" + task.task + ": " + task.headline_metric + ", " +
           std::to_string(task.languages.size()) + " of " + std::to_string(official.size()) +
           " languages\n";
    for (const ScoredLanguage& language : task.languages) {
      const data::Language* info = data::find_language(language.scores.language);
      char head[64];
      std::snprintf(head, sizeof head, "  %-3s %-14s", language.scores.language.c_str(),
                    info ? std::string(info->name).c_str() : "");
      out += head;
      for (const auto& [metric, value] : language.scores.metrics)
        out += "  " + metric + " " + format_score(value);
      if (metrics::is_qa_task(task.task)) out += "  metric " + format_score(language.headline);
      if (language.unanswered > 0)
        out += "  (" + std::to_string(language.unanswered) + " of " +
               std::to_string(language.examples) + " unanswered, scored 0)";
      out += "\n";
    }
    out += "  mean              ";
    for (const auto& [metric, value] : task.summary.averages)
      out += "  " + metric.substr(4) + " " + format_score(value);
    out += "  metric " + format_score(*task.summary.avg_metric);
    if (pooled_over_languages(task.task)) out += " (pooled over all questions)";
    if (!task.complete()) out += "  (incomplete)";
    out += "\n";
  }
  if (report.tasks.empty()) out += "\nno task scored\n";
  if (!report.overall.groups.empty()) {
    out += "\ngroups\n";
    for (const auto& [group, value] : report.overall.groups) {
      char line[96];
      std::snprintf(line, sizeof line, "  %-16s %s\n", group.c_str(), format_score(value).c_str());
      out += line;
    }
  }
  out += "\nall_task: " +
         (report.overall.all_task
              ? format_score(*report.overall.all_task)
              : std::string("not computed (needs every task of the benchmark, complete)")) +
         "\n";
  if (!report.notes.empty()) {
    out += "\nnotes\n";
    for (const std::string& note : report.notes) out += "  " + note + "\n";
  }
  return out;
}

json json_report(const ScoreReport& report) {
  json tasks = json::object();
  for (const ScoredTask& task : report.tasks) {
    json languages = json::object();
    for (const ScoredLanguage& language : task.languages) {
      json entry = json::object();
      for (const auto& [metric, value] : language.scores.metrics) entry[metric] = value;
      entry["metric"] = language.headline;
      entry["examples"] = language.examples;
      entry["unanswered"] = language.unanswered;
      entry["prediction_file"] = language.prediction_file;
      entry["label_file"] = language.label_file;
      languages[language.scores.language] = entry;
    }
    json averages = json::object();
    for (const auto& [metric, value] : task.summary.averages) averages[metric] = value;
    tasks[task.task] = {{"headline_metric", task.headline_metric},
                        {"languages", languages},
                        {"averages", averages},
                        {"avg_metric", *task.summary.avg_metric},
                        {"complete", task.complete()},
                        {"missing_languages", task.missing_languages}};
  }
  json groups = json::object();
  for (const auto& [group, value] : report.overall.groups) groups[group] = value;
  return {{"benchmark", benchmark_name(report.benchmark)},
          {"predictions", report.predictions_dir},
          {"labels", report.labels_dir},
          {"tasks", tasks},
          {"groups", groups},
          {"all_task", report.overall.all_task ? json(*report.overall.all_task) : json(nullptr)},
          {"notes", report.notes}};
}

}  // namespace stilts::experiments
