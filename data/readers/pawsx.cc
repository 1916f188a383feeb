#include "data/readers/pawsx.h"

#include "data/readers/xnli.h"

namespace stilts::data {

const SentencePairTask& pawsx_task() {
  // T5's GLUE preprocessor, which mT5 applies to PAWS-X: the task name without a colon, then
  // "key: value" per sentence, and the label names as targets.
  static const SentencePairTask pawsx{
      "paws sentence1: ", " sentence2: ", {"0", "1"}, {"different_meaning", "paraphrase"}};
  return pawsx;
}

std::vector<Example> read_pawsx(const std::string& path, const ReadOptions& options,
                                ReadSummary& summary) {
  return read_sentence_pair_tsv(path, pawsx_task(), options, summary);
}

}  // namespace stilts::data
