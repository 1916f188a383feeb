// stilts: mT5 with tensor and data parallelism. `stilts <command> --help` documents each
// command.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "launch/commands/commands.h"
#include "launch/options.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"train", stilts::launch::run_train,
     "train a model (CPU or GPU; one process or the ranks of an mpirun job)"},
    {"loss", stilts::launch::run_loss, "per-example loss of token ids under a checkpoint"},
    {"plan", stilts::launch::run_plan, "parameter count and memory of a model, no allocation"},
    {"bench", stilts::launch::run_bench, "time training steps (forward, backward, optimizer)"},
    {"import-hf", stilts::launch::run_import_hf,
     "Hugging Face model directory -> stilts checkpoint"},
    {"export-hf", stilts::launch::run_export_hf,
     "stilts checkpoint -> Hugging Face model directory"},
    {"tokenizer", stilts::launch::run_tokenizer,
     "train a SentencePiece model (mT5 layout), encode and decode text"},
    {"prepare", stilts::launch::run_prepare,
     "task files -> tokenized corpus (HDF5) for training and evaluation"},
    {"score", stilts::launch::run_score,
     "score XTREME / XTREME-R prediction files against labels, per task, language and group"},
    {"eval", stilts::launch::run_eval,
     "run a model on a task's files per language: predictions, scores, per-family summary"},
    {"report", stilts::launch::run_report,
     "runs of a grid -> tables per model and family, gains, bootstrap intervals, plots"},
    {"experiment", stilts::launch::run_experiment,
     "run a grid: model x regime x target task x seed, each stage resumable (--dry-run lists)"},
};

void print_usage(std::FILE* out) {
  std::fprintf(out, "usage: stilts <command> [options]   (stilts <command> --help)\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(argv[1], c.name) != 0) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const stilts::launch::UsageError& e) {
      std::fprintf(stderr, "stilts %s: %s\n", c.name, e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "stilts %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "stilts: unknown command '%s'\n\n", argv[1]);
  print_usage(stderr);
  return 2;
}
