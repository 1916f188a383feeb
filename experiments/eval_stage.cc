#include "experiments/eval_stage.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "core/generate.h"
#include "core/sentence_embedding.h"
#include "data/languages.h"
#include "data/readers/udhr.h"
#include "data/tasks.h"
#include "experiments/accidental_translation.h"
#include "experiments/metrics/bucc.h"
#include "experiments/metrics/categories.h"
#include "experiments/scorer.h"

namespace stilts::experiments {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Mode = data::InferenceMode;

// Ranked candidates kept per query (the scorers' mAP@20).
constexpr int64_t kRetrievalTopK = 20;

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

// A per-example score, exact when read back (%.17g).
std::string format_example_score(double score) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", score);
  return buffer;
}

// An example id as one TSV field: tabs and line breaks become spaces.
std::string tsv_field(std::string text) {
  for (char& c : text)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return text;
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  try {
    return json::parse(in);
  } catch (const json::exception& e) {
    throw std::runtime_error(path.string() + ": not valid JSON: " + e.what());
  }
}

void require_labeled(const data::Example& example, const std::string& path) {
  if (!example.gold.value("labeled", false))
    throw std::runtime_error(path + ": example " + example.id +
                             " has no gold label (XTREME's preprocessing removes test labels; "
                             "--split test reads the labeled originals, docs/TASKS.md)");
}

// The ids the tokenizer can decode (a model's vocabulary may have padding rows past its pieces).
std::string decode_text(const data::Tokenizer& tokenizer, const std::vector<int32_t>& ids) {
  std::vector<int32_t> kept;
  for (int32_t id : ids)
    if (id >= 0 && id < tokenizer.piece_count()) kept.push_back(id);
  return tokenizer.decode(kept);
}

struct Written {
  std::string predictions;
  std::string labels;
  json notes = json::object();
};

// The input ids with eos, cut to max_length (0: no limit) keeping the final eos.
std::vector<int32_t> encode_input(const data::Tokenizer& tokenizer, const std::string& text,
                                  int64_t max_length, int64_t& truncated) {
  std::vector<int32_t> ids = tokenizer.encode_with_eos(text);
  if (max_length > 0 && static_cast<int64_t>(ids.size()) > max_length) {
    ids.resize(static_cast<size_t>(max_length - 1));
    ids.push_back(tokenizer.eos_id());
    ++truncated;
  }
  return ids;
}

// Removes a scratch folder when it goes out of scope.
struct ScratchFolder {
  fs::path path;
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
    fs::remove(path.parent_path(), ignored);  // only when empty
  }
};

}  // namespace

std::vector<std::string> supported_eval_tasks() {
  return data::eval_task_names();
}

void check_eval_task(const std::string& task) {
  data::task_evaluation(task);
}

std::string task_data_path(const std::string& data_dir, const std::string& task,
                           const std::string& split, const std::string& language) {
  check_eval_task(task);
  return data::data_file(data::task_spec(task), data_dir, split, language);
}

namespace {

// Whether the split reads the task's labeled original rather than XTREME's layout.
bool reads_original(const std::string& task, const std::string& split) {
  return split == "test" && !data::task_evaluation(task).test_layout.empty();
}

}  // namespace

std::string missing_file_reason(const std::string& task, const std::string& split,
                                const std::string& path) {
  if (reads_original(task, split))
    return "no labeled test original " + path +
           " (experiments/data/download.sh fetches it; XTREME's test files have no labels)";
  return "no " + split + " file " + path;
}

std::string no_data_file_error(const std::string& task, const std::string& split,
                               const std::string& data_dir,
                               const std::vector<std::string>& missing) {
  if (reads_original(task, split))
    return "missing data file " + joined(missing) + " (expected the labeled original of the " +
           task + " test split for each language under " + data_dir +
           ", which experiments/data/download.sh fetches: XTREME's test files have no labels; " +
           "no language has one)";
  return "missing data file " + joined(missing) + " (expected the " + task + " " + split +
         " file of each language in XTREME's download layout under " + data_dir +
         "; no language has one)";
}

int best_candidate(const std::vector<double>& log_likelihoods, const std::vector<size_t>& lengths,
                   bool per_token) {
  if (log_likelihoods.empty() || lengths.size() != log_likelihoods.size())
    throw std::invalid_argument("best_candidate: " + std::to_string(log_likelihoods.size()) +
                                " log-likelihoods but " + std::to_string(lengths.size()) +
                                " lengths (expected as many, at least one)");
  auto score = [&](size_t k) {
    if (!per_token) return log_likelihoods[k];
    if (lengths[k] == 0) throw std::invalid_argument("best_candidate: a candidate of no tokens");
    return log_likelihoods[k] / static_cast<double>(lengths[k]);
  };
  size_t best = 0;
  for (size_t k = 1; k < log_likelihoods.size(); ++k)
    if (score(k) > score(best)) best = k;
  return static_cast<int>(best);
}

int64_t retrieval_layer_of(int64_t layer, double depth, int64_t encoder_layers) {
  if (layer < 0) {
    if (!(depth >= 0.0 && depth <= 1.0))
      throw std::invalid_argument("--layer-depth: " + std::to_string(depth) +
                                  " is not a relative depth in [0, 1]");
    return std::llround(depth * static_cast<double>(encoder_layers));
  }
  if (layer > encoder_layers)
    throw std::invalid_argument("--layer: " + std::to_string(layer) + " is past the encoder's " +
                                std::to_string(encoder_layers) + " layers");
  return layer;
}

std::vector<std::string> resolve_eval_languages(const std::string& task, const std::string& spec) {
  const std::vector<std::string>& official = data::task_evaluation(task).languages();
  if (spec == "all") return official;
  std::vector<std::string> out;
  std::stringstream in(spec);
  std::string code;
  while (std::getline(in, code, ',')) {
    if (code.empty()) throw std::invalid_argument("--langs '" + spec + "': empty language code");
    data::check_language(code, "--langs");
    if (std::find(official.begin(), official.end(), code) == official.end())
      throw std::invalid_argument("--langs: " + task + " has no language '" + code +
                                  "' (its languages: " + joined(official) + ")");
    if (std::find(out.begin(), out.end(), code) == out.end()) out.push_back(code);
  }
  if (out.empty()) throw std::invalid_argument("--langs: no languages given");
  return out;
}

namespace {

// Tatoeba and udhr-align: each query's nearest English candidate by cosine of mean-pooled
// encoder states. udhr-align's paragraphs without an English counterpart (role "unaligned") are
// left out and counted.
Written retrieve(Mt5Model& model, const data::Tokenizer& tokenizer, const std::string& task,
                 const std::vector<data::Example>& examples, const EvalOptions& options,
                 const std::string& language) {
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::vector<int32_t>> queries, candidates;
  std::vector<int64_t> candidate_index;
  std::vector<const data::Example*> query_examples;
  int64_t truncated = 0, unaligned = 0;
  for (const data::Example& e : examples) {
    if (e.gold.at("role") == "unaligned") {
      ++unaligned;
    } else if (e.gold.at("role") == "query") {
      queries.push_back(encode_input(tokenizer, e.input, options.max_input_len, truncated));
      query_examples.push_back(&e);
    } else {
      candidates.push_back(encode_input(tokenizer, e.input, options.max_input_len, truncated));
      candidate_index.push_back(e.gold.at("index").get<int64_t>());
    }
  }
  if (queries.empty() || candidates.empty())
    throw std::runtime_error(task + " " + language + ": no queries or no English candidates");
  const int64_t layer =
      retrieval_layer_of(options.retrieval_layer, options.layer_depth, model.encoder_layers());
  const int64_t total = static_cast<int64_t>(examples.size());
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  const int64_t batch = std::max<int64_t>(1, options.batch_size);
  const Tensor q = sentence_embeddings(model, queries, layer, batch);
  if (options.progress)
    options.progress(language, static_cast<int64_t>(queries.size()), total, seconds());
  const Tensor c = sentence_embeddings(model, candidates, layer, batch);
  const Neighbors nearest = nearest_by_cosine(q, c, 1);
  Written w;
  for (size_t i = 0; i < query_examples.size(); ++i) {
    w.predictions +=
        std::to_string(candidate_index.at(static_cast<size_t>(nearest.indices[i][0]))) + "\n";
    w.labels += std::to_string(query_examples[i]->gold.at("gold_index").get<int64_t>()) + "\n";
  }
  w.notes["retrieval_layer"] = layer;
  w.notes["candidates"] = candidates.size();
  if (task == "udhr-align") w.notes["paragraphs_without_english_counterpart"] = unaligned;
  if (truncated > 0) w.notes["inputs_truncated"] = truncated;
  if (options.progress) options.progress(language, total, total, seconds());
  return w;
}

// The encoder layer that embeds a sentence for the retrieval tasks.
int64_t retrieval_layer(Mt5Model& model, const EvalOptions& options) {
  return retrieval_layer_of(options.retrieval_layer, options.layer_depth, model.encoder_layers());
}

// [texts, d] sentence embeddings.
Tensor embed_texts(Mt5Model& model, const data::Tokenizer& tokenizer,
                   const std::vector<std::string>& texts, const EvalOptions& options,
                   int64_t& truncated) {
  std::vector<std::vector<int32_t>> inputs;
  inputs.reserve(texts.size());
  for (const std::string& text : texts)
    inputs.push_back(encode_input(tokenizer, text, options.max_input_len, truncated));
  return sentence_embeddings(model, inputs, retrieval_layer(model, options),
                             std::max<int64_t>(1, options.batch_size));
}

std::vector<data::Example> read_file_of(const std::string& task, const std::string& path,
                                        const std::string& language, const std::string& split,
                                        const std::string& what) {
  if (!fs::is_regular_file(path))
    throw std::runtime_error("missing data file " + path + " (expected " + what +
                             " in XTREME's download layout)");
  data::ReadOptions read_options;
  read_options.language = language;
  read_options.split = split;
  data::ReadSummary summary;
  return data::read_task(task, path, read_options, summary);
}

// The candidate pool of LAReQA or Mewsli-X, embedded once per evaluate_task call.
struct CandidatePool {
  bool ready = false;
  std::vector<std::string> ids;
  std::optional<Tensor> embeddings;
  std::vector<std::string> languages;  // LAReQA: the files pooled
  // LAReQA: each question id's correct candidates over the pooled languages.
  std::map<std::string, std::vector<std::string>> gold;
  int64_t truncated = 0;
};

struct RetrievalContext {
  std::string data_dir;
  CandidatePool pool;
};

// {query id: [ids of its k nearest candidates]} over the pool.
json ranked_ids(const Tensor& queries, const CandidatePool& pool,
                const std::vector<std::string>& query_ids) {
  const Neighbors nearest = nearest_by_cosine(queries, *pool.embeddings, kRetrievalTopK);
  json ranked = json::object();
  for (size_t i = 0; i < query_ids.size(); ++i) {
    json ids = json::array();
    for (int64_t index : nearest.indices[i]) ids.push_back(pool.ids.at(static_cast<size_t>(index)));
    ranked[query_ids[i]] = ids;
  }
  return ranked;
}

// LAReQA (XQuAD-R): each question against the answer sentences of every language file present
// under the data folder (the 11 of XTREME-R when all are there).
Written retrieve_lareqa(Mt5Model& model, const data::Tokenizer& tokenizer,
                        const std::vector<data::Example>& examples, const EvalOptions& options,
                        RetrievalContext& context) {
  CandidatePool& pool = context.pool;
  if (!pool.ready) {
    std::vector<std::string> texts;
    for (const std::string& l : data::task_evaluation("lareqa").languages()) {
      const std::string path = task_data_path(context.data_dir, "lareqa", "test", l);
      if (!fs::is_regular_file(path)) continue;
      pool.languages.push_back(l);
      for (const data::Example& e : read_file_of("lareqa", path, l, "test", "an XQuAD-R file")) {
        if (e.gold.at("role") == "candidate") {
          pool.ids.push_back(e.id);
          texts.push_back(e.input);
        } else if (e.gold.contains("answer_candidate")) {
          pool.gold[e.gold.at("question_id").get<std::string>()].push_back(
              e.gold.at("answer_candidate").get<std::string>());
        }
      }
    }
    if (texts.empty()) throw std::runtime_error("lareqa: no candidate sentences in the pool");
    pool.embeddings = embed_texts(model, tokenizer, texts, options, pool.truncated);
    pool.ready = true;
  }
  std::vector<std::string> texts, question_ids;
  for (const data::Example& e : examples)
    if (e.gold.at("role") == "query") {
      texts.push_back(e.input);
      question_ids.push_back(e.gold.at("question_id").get<std::string>());
    }
  if (texts.empty()) throw std::runtime_error("lareqa: no questions");
  int64_t truncated = 0;
  const Tensor q = embed_texts(model, tokenizer, texts, options, truncated);
  json labels = json::object();
  for (const std::string& id : question_ids) {
    const auto gold = pool.gold.find(id);
    if (gold == pool.gold.end())
      throw std::runtime_error("lareqa: question " + id + " has no answer sentence in the pool");
    labels[id] = gold->second;
  }
  Written w;
  w.predictions = ranked_ids(q, pool, question_ids).dump(1) + "\n";
  w.labels = labels.dump(1) + "\n";
  w.notes["retrieval_layer"] = retrieval_layer(model, options);
  w.notes["candidates"] = pool.ids.size();
  w.notes["candidate_pool_languages"] = pool.languages;
  w.notes["candidate_pool"] =
      "the answer sentences of every XQuAD-R file found under the data folder (the languages "
      "listed), as XTREME-R pools its 11 languages; a question's correct candidates are its "
      "answer sentences in each of them";
  if (truncated + pool.truncated > 0) w.notes["inputs_truncated"] = truncated + pool.truncated;
  return w;
}

// Mewsli-X: each mention against the entity descriptions of candidate_set_entities.jsonl; the
// gold QID is the mention's entity_id, which XTREME's wikinews_labels/{split}-{lang}.json repeats
// (blanked for test, where the stage reads the labeled original instead).
Written retrieve_mewslix(Mt5Model& model, const data::Tokenizer& tokenizer,
                         const std::vector<data::Example>& examples, const EvalOptions& options,
                         RetrievalContext& context) {
  const fs::path root = fs::path(context.data_dir) / "mewslix";
  CandidatePool& pool = context.pool;
  if (!pool.ready) {
    std::vector<std::string> texts;
    const std::string path = (root / "candidate_set_entities.jsonl").string();
    for (const data::Example& e :
         read_file_of("mewslix", path, "", options.split, "Mewsli-X's candidate entities")) {
      pool.ids.push_back(e.id);
      texts.push_back(e.input);
    }
    if (texts.empty()) throw std::runtime_error(path + ": no candidate entities");
    pool.embeddings = embed_texts(model, tokenizer, texts, options, pool.truncated);
    pool.ready = true;
  }
  std::vector<std::string> texts, ids;
  json labels = json::object();
  for (const data::Example& e : examples) {
    texts.push_back(e.input);
    ids.push_back(e.id);
    labels[e.id] = json::array({e.gold.at("entity_id")});
  }
  int64_t truncated = 0;
  const Tensor q = embed_texts(model, tokenizer, texts, options, truncated);
  Written w;
  w.predictions = ranked_ids(q, pool, ids).dump(1) + "\n";
  w.labels = labels.dump(1) + "\n";
  w.notes["retrieval_layer"] = retrieval_layer(model, options);
  w.notes["candidates"] = pool.ids.size();
  if (truncated + pool.truncated > 0) w.notes["inputs_truncated"] = truncated + pool.truncated;
  return w;
}

// BUCC: each source sentence's nearest English sentence and its cosine.
std::vector<metrics::BuccCandidate> bucc_candidates(Mt5Model& model,
                                                    const data::Tokenizer& tokenizer,
                                                    const std::vector<data::Example>& examples,
                                                    const EvalOptions& options,
                                                    int64_t& truncated) {
  std::vector<std::string> sources, source_ids, english, english_ids;
  for (const data::Example& e : examples) {
    const bool query = e.gold.at("role") == "query";
    (query ? sources : english).push_back(e.input);
    (query ? source_ids : english_ids).push_back(e.id);
  }
  if (sources.empty() || english.empty())
    throw std::runtime_error("bucc2018: no source or no English sentences");
  const Tensor q = embed_texts(model, tokenizer, sources, options, truncated);
  const Tensor c = embed_texts(model, tokenizer, english, options, truncated);
  const Neighbors nearest = nearest_by_cosine(q, c, 1);
  std::vector<metrics::BuccCandidate> candidates;
  for (size_t i = 0; i < sources.size(); ++i)
    candidates.push_back({source_ids[i], english_ids.at(static_cast<size_t>(nearest.indices[i][0])),
                          static_cast<double>(nearest.similarities[i][0])});
  return candidates;
}

std::vector<metrics::BuccPair> bucc_gold(const std::vector<data::Example>& examples) {
  std::vector<metrics::BuccPair> pairs;
  for (const data::Example& e : examples)
    if (e.gold.at("role") == "query" && e.gold.contains("gold_ids"))
      for (const json& id : e.gold.at("gold_ids")) pairs.emplace_back(e.id, id.get<std::string>());
  return pairs;
}

// BUCC 2018: the threshold on the nearest neighbour's cosine is chosen on dev
// (bucc_optimize_threshold) and applied to the evaluated split (bucc_extract).
Written mine_bucc(Mt5Model& model, const data::Tokenizer& tokenizer,
                  const std::vector<data::Example>& examples, const EvalOptions& options,
                  const std::string& language, RetrievalContext& context) {
  const std::string dev_path = task_data_path(context.data_dir, "bucc2018", "dev", language);
  const std::string dev_gold_path =
      (fs::path(context.data_dir) / "bucc2018" / (language + "-en.dev.gold")).string();
  for (const std::string& path : {dev_path, dev_gold_path})
    if (!fs::is_regular_file(path))
      throw std::runtime_error("missing dev file " + path +
                               " (BUCC's threshold is chosen on the dev split)");
  int64_t truncated = 0;
  const std::vector<metrics::BuccCandidate> candidates =
      bucc_candidates(model, tokenizer, examples, options, truncated);
  double threshold = 0.0;
  if (options.split == "dev") {
    threshold = metrics::bucc_optimize_threshold(candidates, bucc_gold(examples));
  } else {
    const std::vector<data::Example> dev =
        read_file_of("bucc2018", dev_path, language, "dev", "the BUCC dev file");
    threshold = metrics::bucc_optimize_threshold(
        bucc_candidates(model, tokenizer, dev, options, truncated), bucc_gold(dev));
  }
  Written w;
  const std::vector<metrics::BuccPair> mined = metrics::bucc_extract(candidates, threshold);
  for (const metrics::BuccPair& p : mined) w.predictions += p.first + "\t" + p.second + "\n";
  for (const metrics::BuccPair& p : bucc_gold(examples))
    w.labels += p.first + "\t" + p.second + "\n";
  w.notes["retrieval_layer"] = retrieval_layer(model, options);
  w.notes["threshold"] = threshold;
  w.notes["threshold_file"] = dev_path;
  w.notes["mined_pairs"] = mined.size();
  w.notes["scoring"] =
      "each source sentence's nearest English sentence by cosine; pairs at or above the threshold "
      "that maximizes F1 on the dev split";
  if (truncated > 0) w.notes["inputs_truncated"] = truncated;
  return w;
}

// Generated tokens per example of the answer modes: --max-length, else the task's default.
int64_t generated_length(const data::Evaluation& task, const EvalOptions& options) {
  return options.max_length > 0 ? options.max_length : task.max_length;
}

// Runs the model over `examples` and returns the prediction and label files' contents.
Written run_language(Mt5Model& model, const data::Tokenizer& tokenizer, const data::TaskSpec& spec,
                     const std::vector<data::Example>& examples, const std::string& path,
                     const EvalOptions& options, const std::string& language,
                     RetrievalContext& context) {
  const data::Evaluation& task = *spec.evaluation;
  for (const data::Example& e : examples)
    if (e.gold.value("role", "query") == "query") require_labeled(e, path);
  Written w;
  if (task.mode == Mode::kRetrieve)
    return retrieve(model, tokenizer, spec.name, examples, options, language);
  if (task.mode == Mode::kLareqa || task.mode == Mode::kMewslix || task.mode == Mode::kBucc) {
    const auto begin = std::chrono::steady_clock::now();
    w = task.mode == Mode::kLareqa ? retrieve_lareqa(model, tokenizer, examples, options, context)
        : task.mode == Mode::kMewslix
            ? retrieve_mewslix(model, tokenizer, examples, options, context)
            : mine_bucc(model, tokenizer, examples, options, language, context);
    if (options.progress) {
      const auto total = static_cast<int64_t>(examples.size());
      options.progress(
          language, total, total,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
    }
    return w;
  }
  const auto start = std::chrono::steady_clock::now();
  const int64_t total = static_cast<int64_t>(examples.size());
  const int64_t batch = std::max<int64_t>(1, options.batch_size);
  json qa_predictions = json::object();
  json qa_gold = json::array();
  int64_t truncated = 0;
  AccidentalTranslation accidental;
  if (const data::Language* l = data::find_language(language))
    accidental.language_script = std::string(l->script);
  // Tagging: each tag's ids as a target spells it (the tags joined by spaces).
  std::vector<std::vector<int32_t>> tag_ids;
  if (task.mode == Mode::kTags)
    for (const std::string& tag : task.tags) tag_ids.push_back(tokenizer.encode(tag));
  for (int64_t begin = 0; begin < total; begin += batch) {
    const int64_t end = std::min(total, begin + batch);
    std::vector<std::vector<int32_t>> inputs;
    for (int64_t i = begin; i < end; ++i)
      inputs.push_back(encode_input(tokenizer, examples[static_cast<size_t>(i)].input,
                                    options.max_input_len, truncated));
    if (task.mode == Mode::kRankLabels || task.mode == Mode::kRankChoices) {
      std::vector<std::vector<std::vector<int32_t>>> candidates;
      for (int64_t i = begin; i < end; ++i) {
        const data::Example& e = examples[static_cast<size_t>(i)];
        std::vector<std::vector<int32_t>> c;
        if (task.mode == Mode::kRankLabels) {
          for (const std::string& word : task.label_words)
            c.push_back(tokenizer.encode_with_eos(word));
        } else {
          for (const json& choice : e.gold.at("choices"))
            c.push_back(tokenizer.encode_with_eos(choice.get<std::string>()));
        }
        candidates.push_back(std::move(c));
      }
      const std::vector<RankedCandidates> ranked = rank_classify(model, inputs, candidates);
      for (int64_t i = begin; i < end; ++i) {
        const data::Example& e = examples[static_cast<size_t>(i)];
        const auto k = static_cast<size_t>(i - begin);
        const bool per_token = task.mode == Mode::kRankChoices && options.length_normalize;
        std::vector<size_t> lengths;
        for (const auto& candidate : candidates[k]) lengths.push_back(candidate.size());
        const int best =
            per_token ? best_candidate(ranked[k].log_likelihoods, lengths, true) : ranked[k].best;
        if (task.mode == Mode::kRankLabels) {
          w.predictions += task.file_labels.at(static_cast<size_t>(best)) + "\n";
          w.labels += task.file_labels.at(e.gold.at("label_index").get<size_t>()) + "\n";
        } else {
          w.predictions += json{{"id", e.id}, {"label", best}}.dump() + "\n";
          w.labels += json{{"id", e.id}, {"label", e.gold.at("label")}}.dump() + "\n";
        }
      }
    } else if (task.mode == Mode::kTags) {
      std::vector<int64_t> words;
      for (int64_t i = begin; i < end; ++i)
        words.push_back(
            static_cast<int64_t>(examples[static_cast<size_t>(i)].gold.at("tokens").size()));
      const std::vector<std::vector<int>> tags = decode_tags(model, inputs, words, tag_ids);
      for (int64_t i = begin; i < end; ++i) {
        const data::Example& e = examples[static_cast<size_t>(i)];
        for (int tag : tags[static_cast<size_t>(i - begin)])
          w.predictions += task.tags.at(static_cast<size_t>(tag)) + "\n";
        w.predictions += "\n";
        for (const json& tag : e.gold.at("tags")) w.labels += tag.get<std::string>() + "\n";
        w.labels += "\n";
      }
    } else {
      const std::vector<std::vector<int32_t>> generated =
          greedy_decode(model, inputs, {generated_length(task, options), true});
      for (int64_t i = begin; i < end; ++i) {
        const data::Example& e = examples[static_cast<size_t>(i)];
        const std::string text = decode_text(tokenizer, generated[static_cast<size_t>(i - begin)]);
        {
          const std::string qid = e.gold.at("question_id").get<std::string>();
          qa_predictions[qid] = text;
          accidental.add(text, e.gold.at("context").get<std::string>());
          json answers = json::array();
          const json& a = e.gold.at("answers");
          for (size_t k = 0; k < a.at("text").size(); ++k)
            answers.push_back({{"text", a["text"][k]}, {"answer_start", a["answer_start"][k]}});
          qa_gold.push_back(
              {{"paragraphs",
                json::array({{{"context", e.gold.at("context")},
                              {"qas", json::array({{{"id", qid}, {"answers", answers}}})}}})}});
        }
      }
    }
    if (options.progress)
      options.progress(
          language, end, total,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (task.mode == Mode::kAnswer) {
    w.notes["accidental_translation"] = accidental.to_json();
    w.predictions = qa_predictions.dump(1) + "\n";
    w.labels = json{{"version", "1.1"}, {"data", qa_gold}}.dump(1) + "\n";
  }
  if (truncated > 0) w.notes["inputs_truncated"] = truncated;
  if (task.mode == Mode::kRankChoices)
    w.notes["choice_score"] = options.length_normalize
                                  ? "log-likelihood per target token (eos included)"
                                  : "summed log-likelihood";
  if (task.mode == Mode::kTags) {
    w.notes["tag_decoding"] =
        "greedy decoding constrained to the task's tag set: exactly one tag per input token";
  }
  return w;
}

}  // namespace

std::vector<LanguageOutcome> evaluate_task(Mt5Model& model, const data::Tokenizer& tokenizer,
                                           const std::string& task_name,
                                           const std::string& data_dir,
                                           const std::vector<std::string>& languages,
                                           const std::string& out_dir, const EvalOptions& options) {
  check_eval_task(task_name);
  const data::TaskSpec& task = data::task_spec(task_name);
  const fs::path out(out_dir);
  const std::string ext = task_file_extension(task_name);
  std::vector<LanguageOutcome> outcomes;
  RetrievalContext context{data_dir, {}};
  // A language without its file is skipped, unless none has one: then nothing would be scored.
  std::vector<std::string> missing_files;
  for (const std::string& language : languages) {
    const std::string path = task_data_path(data_dir, task_name, options.split, language);
    if (!fs::exists(path) && (options.force || !fs::exists(out / task_name / (language + ".json"))))
      missing_files.push_back(path);
  }
  if (!languages.empty() && missing_files.size() == languages.size())
    throw std::runtime_error(no_data_file_error(task_name, options.split, data_dir, missing_files));
  for (const std::string& language : languages) {
    const fs::path result_path = out / task_name / (language + ".json");
    if (!options.force && fs::exists(result_path)) {
      json earlier = read_json(result_path);
      // A result of other articles would be reported as this selection's.
      const std::string articles = data::udhr_articles_text(options.articles);
      if (earlier.value("articles", std::string()) != articles)
        throw std::runtime_error(result_path.string() + " is a result of the articles '" +
                                 earlier.value("articles", std::string("all")) + "', not '" +
                                 (articles.empty() ? "all" : articles) +
                                 "' (--force evaluates again)");
      outcomes.push_back({language, true, std::move(earlier), ""});
      continue;
    }
    const std::string path = task_data_path(data_dir, task_name, options.split, language);
    if (!fs::exists(path)) {
      outcomes.push_back(
          {language, false, json(), missing_file_reason(task_name, options.split, path)});
      continue;
    }
    data::ReadOptions read_options;
    read_options.language = language;
    read_options.split = options.split;
    read_options.articles = options.articles;
    data::ReadSummary read_summary;
    const std::vector<data::Example> examples =
        data::read_evaluation_file(task, path, read_options, read_summary);
    if (examples.empty()) throw std::runtime_error(path + ": no examples");
    const auto start = std::chrono::steady_clock::now();
    const Written w =
        run_language(model, tokenizer, task, examples, path, options, language, context);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!options.writes_files) {
      outcomes.push_back({language, false, json(), ""});
      continue;
    }
    const std::string file = "test-" + language + "." + ext;
    const fs::path prediction_file = out / "predictions" / task_name / file;
    const fs::path label_file = out / "labels" / task_name / file;
    write_file(prediction_file, w.predictions);
    write_file(label_file, w.labels);

    // Scored alone, from a copy in a scratch folder, so that other files under <out> (another
    // task's, a language of an earlier run) can neither fail nor slow this language's scoring.
    const ScratchFolder scratch{out / ".scoring" / (task_name + "-" + language)};
    fs::remove_all(scratch.path);
    write_file(scratch.path / "predictions" / task_name / file, w.predictions);
    write_file(scratch.path / "labels" / task_name / file, w.labels);
    const ScoreReport report =
        score_folders((scratch.path / "predictions").string(), (scratch.path / "labels").string(),
                      task.evaluation->benchmarks.front().benchmark);
    const ScoredLanguage* scored = nullptr;
    std::string headline_metric;
    for (const ScoredTask& t : report.tasks) {
      if (t.task != task_name) continue;
      headline_metric = t.headline_metric;
      for (const ScoredLanguage& l : t.languages)
        if (l.scores.language == language) scored = &l;
    }
    if (!scored)
      throw std::runtime_error("the scorer did not score " + prediction_file.string() +
                               " against " + label_file.string());
    json result = {{"task", task_name},
                   {"language", language},
                   {"split", options.split},
                   {"data_file", path},
                   {"prediction_file", prediction_file.string()},
                   {"label_file", label_file.string()},
                   {"metrics", scored->scores.metrics},
                   {"headline_metric", headline_metric},
                   {"score", scored->headline},
                   {"examples", scored->examples},
                   {"unanswered", scored->unanswered},
                   {"seconds", seconds},
                   {"examples_per_second",
                    seconds > 0 ? static_cast<double>(scored->examples) / seconds : 0.0}};
    if (!options.articles.empty()) result["articles"] = data::udhr_articles_text(options.articles);
    if (!w.notes.empty()) result["notes"] = w.notes;
    // Per-example scores for the tasks whose headline is a mean over examples (scorer.h).
    const fs::path examples_path = out / task_name / (language + ".examples.tsv");
    fs::remove(examples_path);
    if (scored->example_scores) {
      std::string text = "id\tscore\n";
      for (const ExampleScore& e : *scored->example_scores)
        text += tsv_field(e.id) + "\t" + format_example_score(e.score) + "\n";
      write_file(examples_path, text);
      result["examples_file"] = examples_path.string();
    }
    write_file(result_path, result.dump(2) + "\n");
    outcomes.push_back({language, false, result, ""});
  }
  return outcomes;
}

std::vector<SkippedLanguage> skipped_languages(const std::vector<LanguageOutcome>& outcomes) {
  std::vector<SkippedLanguage> out;
  for (const LanguageOutcome& outcome : outcomes)
    if (!outcome.missing.empty()) out.push_back({outcome.language, outcome.missing});
  return out;
}

json summarize_languages(const std::string& task, const std::vector<LanguageScore>& scores) {
  json summary = {{"task", task},
                  {"headline_metric", metrics::headline_metric(task)},
                  {"languages", json::object()},
                  {"families", json::object()}};
  std::map<std::string, std::vector<const LanguageScore*>> by_family;
  double sum = 0.0;
  for (const LanguageScore& s : scores) {
    summary["languages"][s.language] = s.score;
    sum += s.score;
    by_family[data::family_of(s.language)].push_back(&s);
  }
  summary["mean"] = scores.empty() ? json(nullptr) : json(sum / static_cast<double>(scores.size()));
  // Families alphabetically (by_family is ordered), so the summary reads the same for any
  // --langs order.
  std::vector<std::string> ordered;
  for (const auto& entry : by_family)
    if (entry.first != "unknown") ordered.push_back(entry.first);
  if (by_family.count("unknown")) ordered.push_back("unknown");
  json families = json::array();
  for (const std::string& family : ordered) {
    double family_sum = 0.0;
    json codes = json::array();
    for (const LanguageScore* s : by_family[family]) {
      family_sum += s->score;
      codes.push_back(s->language);
    }
    families.push_back({{"family", family},
                        {"mean", family_sum / static_cast<double>(by_family[family].size())},
                        {"languages", codes}});
  }
  summary["families"] = families;
  return summary;
}

std::string summary_markdown(const json& summary) {
  std::ostringstream md;
  auto number = [](const json& v) {
    if (v.is_null()) return std::string("-");
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", v.get<double>());
    return std::string(buffer);
  };
  md << "# " << summary.at("task").get<std::string>() << " ("
     << summary.at("headline_metric").get<std::string>() << ", x100)\n\n";
  md << "| language | family | score |\n|---|---|---|\n";
  for (const auto& [code, score] : summary.at("languages").items()) {
    md << "| " << code << " | " << data::family_of(code) << " | " << number(score) << " |\n";
  }
  md << "\n**mean: " << number(summary.at("mean")) << "**\n\n";
  md << "| family | languages | mean |\n|---|---|---|\n";
  for (const json& f : summary.at("families")) {
    std::string codes;
    for (const json& c : f.at("languages")) {
      if (!codes.empty()) codes += ' ';
      codes += c.get<std::string>();
    }
    md << "| " << f.at("family").get<std::string>() << " | " << codes << " | "
       << number(f.at("mean")) << " |\n";
  }
  if (summary.contains("skipped_languages") && !summary.at("skipped_languages").empty()) {
    md << "\n"
       << summary.at("skipped_languages").size()
       << " language(s) skipped, not in the mean:\n\n| language | reason |\n|---|---|\n";
    for (const json& s : summary.at("skipped_languages"))
      md << "| " << s.at("language").get<std::string>() << " | "
         << s.at("reason").get<std::string>() << " |\n";
  }
  if (summary.contains("accidental_translation")) {
    md << "\nAccidental translation (% of non-empty answers):\n\n"
       << "| language | script | answers | other script | not in context "
          "|\n|---|---|---|---|---|\n";
    auto percent = [&](const json& share) {
      return share.is_null() ? std::string("-") : number(json(100.0 * share.get<double>()));
    };
    for (const auto& [code, a] : summary.at("accidental_translation").items())
      md << "| " << code << " | " << a.at("script").get<std::string>() << " | "
         << a.at("answers").get<int64_t>() << " | " << percent(a.at("other_script_share")) << " | "
         << percent(a.at("not_in_context_share")) << " |\n";
  }
  return md.str();
}

json write_task_summary(const std::string& task, const std::vector<std::string>& languages,
                        const std::string& out_dir, const std::vector<SkippedLanguage>& skipped) {
  const fs::path dir = fs::path(out_dir) / task;
  std::vector<LanguageScore> scores;
  json accidental = json::object();
  for (const std::string& language : languages) {
    const fs::path path = dir / (language + ".json");
    if (!fs::exists(path)) continue;
    const json result = read_json(path);
    scores.push_back({language, result.at("score").get<double>()});
    if (result.contains("notes") && result["notes"].contains("accidental_translation"))
      accidental[language] = result["notes"]["accidental_translation"];
  }
  json summary = summarize_languages(task, scores);
  json skipped_json = json::array();
  for (const SkippedLanguage& s : skipped)
    skipped_json.push_back({{"language", s.language}, {"reason", s.reason}});
  summary["skipped_count"] = skipped.size();
  summary["skipped_languages"] = skipped_json;
  if (!accidental.empty()) summary["accidental_translation"] = accidental;
  write_file(dir / "summary.json", summary.dump(2) + "\n");
  write_file(dir / "summary.md", summary_markdown(summary));
  return summary;
}

}  // namespace stilts::experiments
