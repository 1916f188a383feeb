#include "data/readers/reader.h"

namespace stilts::data {

void handle_bad_record(const RecordError& error, const ReadOptions& options, ReadSummary& summary) {
  if (!options.skip_bad_records) throw error;
  constexpr size_t kReasonsKept = 10;
  ++summary.skipped;
  if (summary.skipped_reasons.size() < kReasonsKept)
    summary.skipped_reasons.push_back(error.what());
}

}  // namespace stilts::data
