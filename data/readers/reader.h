// What every task reader shares: the options it takes, the record-level error it raises and
// the summary of what it read. Each native format lives in its own file under data/readers/.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/example.h"

namespace stilts::data {

struct ReadOptions {
  std::string language;  // the examples' language when the file does not say (e.g. "en")
  std::string split;     // train | dev | test, where the format distinguishes them
  // Skip malformed records instead of failing, counting them in the summary.
  bool skip_bad_records = false;
  // The UDHR tasks only (data/readers/udhr.h): read the paragraphs of these articles alone (0 is
  // the preamble), so that tasks built on disjoint articles share no text in any language; empty:
  // every article. read_task refuses it for the other tasks.
  std::vector<int64_t> articles;
};

struct ReadSummary {
  int64_t examples = 0;
  int64_t skipped = 0;
  std::vector<std::string> skipped_reasons;  // the first few, for the user
};

// A malformed record: the message names the file, the line (or JSON path) and what was
// expected, e.g. "train-en.tsv:17: expected 3 tab-separated columns, got 2".
class RecordError : public std::runtime_error {
 public:
  RecordError(const std::string& file, const std::string& where, const std::string& what)
      : std::runtime_error(file + ":" + where + ": " + what) {}
};

// Records a bad record in the summary when options allow skipping it; rethrows otherwise.
void handle_bad_record(const RecordError& error, const ReadOptions& options, ReadSummary& summary);

}  // namespace stilts::data
