// stilts eval: a model on each language's test (or dev) file of an XTREME task, with prediction
// and label files, per-language results and a per-family summary (experiments/eval_stage.h).
// Alone, or as the ranks of one tensor-parallel replica under mpirun (--tp = the ranks), of
// which rank 0 writes every file and prints.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include "core/model.h"
#include "data/tasks.h"
#include "experiments/eval_stage.h"
#include "launch/commands/commands.h"
#include "launch/job.h"
#include "launch/model_source.h"
#include "launch/options.h"

namespace stilts::launch {

namespace {

// What the options of stilts eval set, each field bound to its option by eval_options.
struct EvalCommand {
  std::string checkpoint, tokenizer, task, data, languages, out, device;
  boost::optional<std::string> articles;
  int extra_ids = 0;
  int tp = 1;
  int threads = 0;
  bool fp32_residual = false;
  boost::optional<std::string> language_table;
  experiments::EvalOptions options;
};

po::options_description eval_options(EvalCommand& c) {
  po::options_description o("stilts eval");
  o.add_options()("checkpoint", po::value(&c.checkpoint)->required(),
                  "a stilts checkpoint (run or step directory) or a Hugging Face model directory")(
      "tokenizer", po::value(&c.tokenizer)->required(), "the SentencePiece model (M.model)")(
      "extra-ids", po::value(&c.extra_ids)->default_value(100),
      "sentinel pieces <extra_id_N> at the top of the tokenizer's vocabulary")(
      "task", po::value(&c.task)->required(),
      ("the task (" + data::eval_task_help() + ")").c_str())(
      "data", po::value(&c.data)->required(),
      "the folder XTREME's download_data.sh writes (xnli/, xquad/, ...)")(
      "langs", po::value(&c.languages)->default_value("all"),
      "all (the task's languages) or comma-separated codes")(
      "split", po::value(&c.options.split)->default_value("test"),
      "test or dev: test reads each task's labeled original where XTREME's test files have no "
      "labels (docs/TASKS.md), dev XTREME's files; a language without the split's file is "
      "skipped and counted in the summary")(
      "articles", po::value(&c.articles),
      "the UDHR tasks: evaluate the paragraphs of these articles alone, e.g. 21-30 (0 the "
      "preamble, 1 to 30; default: all), those no training stage read")(
      "out", po::value(&c.out)->default_value("results/eval"),
      "results folder: <task>/<lang>.json, <task>/summary.{json,md}, predictions/, labels/")(
      "force", po::bool_switch(&c.options.force),
      "re-evaluate languages that already have a result")(
      "batch", po::value(&c.options.batch_size)->default_value(16), "examples per model call")(
      "length-normalize", po::bool_switch(&c.options.length_normalize),
      "xcopa (rank classification over each example's choices): rank the choices by "
      "log-likelihood per target token instead of the summed log-likelihood")(
      "max-length", po::value(&c.options.max_length)->default_value(0),
      "generated tokens per example for QA (0: 48); tagging decodes exactly one tag per token")(
      "max-input-len", po::value(&c.options.max_input_len)->default_value(1024),
      "input tokens kept per example, eos included (longer inputs are cut and counted in the "
      "result; 0: no limit)")(
      "layer", po::value(&c.options.retrieval_layer)->default_value(-1),
      ("retrieval (" + data::name_list(data::retrieval_task_names()) +
       "): the encoder layer whose mean-pooled states embed a sentence (0: the embeddings; the "
       "encoder's layer count: the final normed output; -1: the layer at --layer-depth)")
          .c_str())(
      "layer-depth", po::value(&c.options.layer_depth)->default_value(0.5, "0.5"),
      "retrieval without --layer: the pooled layer's relative depth in [0, 1], the layer "
      "round(depth x encoder layers) (0.5: a middle layer, as XTREME's retrieval baselines)")(
      "tp", po::value(&c.tp)->default_value(1),
      "tensor-parallel ranks holding the model (under mpirun, as many ranks as --tp)")(
      "device", po::value(&c.device)->default_value("cpu"), "cpu | cuda (one GPU per rank)")(
      "fp32-residual", po::bool_switch(&c.fp32_residual),
      "the residual stream in f32 on the GPU, as a model trained with stilts train "
      "--fp32-residual computed it; nothing changes on the CPU");
  add_thread_option(o, c.threads);
  add_language_table_option(o, c.language_table);
  return o;
}

int evaluate(EvalCommand& c, Communicator& world);

}  // namespace

int run_eval(int argc, char** argv) {
  EvalCommand command;
  po::options_description options = eval_options(command);
  ParsedCommand cmd = parse_command(
      {"stilts eval --checkpoint DIR --tokenizer M.model --task T --data DIR [--langs all|xx,yy] "
       "[--split test|dev] [--out DIR] [--force]",
       {},
       {{"max-input-length", "max-input-len"}}},
      options, argc, argv);
  if (cmd.help) return 0;

  return run_as_job_rank([&](Communicator& world) { return evaluate(command, world); });
}

namespace {

int evaluate(EvalCommand& c, Communicator& world) {
  apply_thread_option(c.threads);
  apply_language_table_option(c.language_table);
  const bool lead = world.rank() == 0;
  const Device device = select_device(c.device);
  const int tp = c.tp;
  if (tp != world.size())
    throw UsageError("--tp " + std::to_string(tp) + " with " + std::to_string(world.size()) +
                     " ranks: stilts eval runs one model replica, so start as many ranks as --tp");

  const std::string& task = c.task;
  std::vector<std::string> languages;
  try {
    experiments::check_eval_task(task);
    languages = experiments::resolve_eval_languages(task, c.languages);
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  experiments::EvalOptions& options = c.options;
  if (c.articles) {
    try {
      options.articles = data::task_articles(data::task_spec(task), *c.articles);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--articles: ") + e.what());
    }
  }
  if (options.split != "test" && options.split != "dev")
    throw UsageError("--split: '" + options.split + "', expected test or dev");
  if (options.batch_size < 1) throw UsageError("--batch: must be >= 1");
  if (options.max_length < 0) throw UsageError("--max-length: must be >= 0");
  if (options.max_input_len < 0 || options.max_input_len == 1)
    throw UsageError("--max-input-len: must be 0 (no limit) or >= 2");
  if (options.retrieval_layer < -1) throw UsageError("--layer: must be >= -1");
  if (!(options.layer_depth >= 0.0 && options.layer_depth <= 1.0))
    throw UsageError("--layer-depth: " + std::to_string(options.layer_depth) +
                     " is not a relative depth in [0, 1]");
  if (c.extra_ids < 0) throw UsageError("--extra-ids: must be >= 0");
  const std::string& data_dir = c.data;
  const std::string& out_dir = c.out;
  // The data files are checked before the model is loaded, so a wrong --data fails at once. A
  // language without its file for the split (UD-POS has no dev split in several languages) is
  // skipped by the stage and counted in the summary; only none having one is an error.
  std::vector<std::string> missing_files;
  for (const std::string& language : languages) {
    const std::string path = experiments::task_data_path(data_dir, task, options.split, language);
    if (!std::filesystem::exists(path) &&
        (options.force ||
         !std::filesystem::exists(std::filesystem::path(out_dir) / task / (language + ".json"))))
      missing_files.push_back(path);
  }
  if (missing_files.size() == languages.size())
    throw std::runtime_error(
        experiments::no_data_file_error(task, options.split, data_dir, missing_files));

  data::TokenizerOptions tokenizer_options;
  tokenizer_options.num_extra_ids = c.extra_ids;
  const data::Tokenizer tokenizer = data::Tokenizer::load(c.tokenizer, tokenizer_options);
  const std::string& checkpoint = c.checkpoint;
  const ModelConfig config = read_model_config(checkpoint);
  const ProcessGrid grid = job_grid(world, tp, config);
  const std::unique_ptr<Communicator> job = job_world(world, device);
  ProcessGrid::Groups groups = grid.make_communicators(*job);
  Parameters params(config, device, {grid.tp(), grid.tp_rank()});
  load_weights(checkpoint, params);
  if (tokenizer.piece_count() > config.vocab_size)
    throw std::runtime_error("the tokenizer has " + std::to_string(tokenizer.piece_count()) +
                             " pieces but the model's vocabulary only " +
                             std::to_string(config.vocab_size));
  Mt5Model model(params, *groups.tp, {.fp32_residual = c.fp32_residual});
  options.writes_files = lead;
  if (options.retrieval_layer > model.encoder_layers())
    throw UsageError("--layer: " + std::to_string(options.retrieval_layer) +
                     " is past the encoder's " + std::to_string(model.encoder_layers()) +
                     " layers");

  if (lead)
    options.progress = [](const std::string& language, int64_t done, int64_t total,
                          double seconds) {
      std::fprintf(stderr, "\r%s: %lld/%lld examples, %.1f examples/s", language.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total),
                   seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
      if (done == total) std::fprintf(stderr, "\n");
    };
  const std::vector<experiments::LanguageOutcome> outcomes =
      experiments::evaluate_task(model, tokenizer, task, data_dir, languages, out_dir, options);
  if (!lead) return 0;
  for (const experiments::LanguageOutcome& outcome : outcomes) {
    const nlohmann::json& r = outcome.result;
    if (!outcome.missing.empty())
      std::printf("%s %s: skipped, %s\n", task.c_str(), outcome.language.c_str(),
                  outcome.missing.c_str());
    else if (outcome.skipped)
      std::printf("%s %s: skipped, already scored (%.2f; --force redoes it)\n", task.c_str(),
                  outcome.language.c_str(), r.at("score").get<double>());
    else
      std::printf("%s %s: %s %.2f over %lld examples, %.1f examples/s\n", task.c_str(),
                  outcome.language.c_str(), r.at("headline_metric").get<std::string>().c_str(),
                  r.at("score").get<double>(), r.at("examples").get<long long>(),
                  r.at("examples_per_second").get<double>());
  }
  const std::vector<experiments::SkippedLanguage> skipped =
      experiments::skipped_languages(outcomes);
  const nlohmann::json summary = experiments::write_task_summary(task, languages, out_dir, skipped);
  std::printf("%s mean %.2f", task.c_str(),
              summary.at("mean").is_null() ? 0.0 : summary.at("mean").get<double>());
  for (const nlohmann::json& f : summary.at("families"))
    std::printf(" | %s %.2f", f.at("family").get<std::string>().c_str(),
                f.at("mean").get<double>());
  if (!skipped.empty())
    std::printf(
        "\n%zu of %zu languages skipped for want of their %s file (listed in "
        "summary.json, skipped_languages)",
        skipped.size(), languages.size(), options.split.c_str());
  std::printf("\nwrote %s/%s/summary.json and summary.md\n", out_dir.c_str(), task.c_str());
  return 0;
}

}  // namespace

}  // namespace stilts::launch
