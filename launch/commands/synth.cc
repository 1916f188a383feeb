// stilts synth: writes the synthetic study (data/synthetic_study.h), the demo's languages with a
// known answer: their language table, monolingual text, the target, intermediate and retrieval
// tasks' files.
#include <cstdio>
#include <stdexcept>

#include "data/synthetic_study.h"
#include "launch/commands/commands.h"
#include "launch/options.h"

namespace stilts::launch {

int run_synth(int argc, char** argv) {
  std::string out;
  data::SyntheticStudyOptions s;
  po::options_description o("stilts synth");
  o.add_options()("out", po::value(&out)->required(),
                  "a new folder for the study (an existing one is refused, untouched)")(
      "seed", po::value(&s.seed)->default_value(s.seed),
      "the seed of the sentences and of the derived languages' words")(
      "text-sentences", po::value(&s.text_sentences)->default_value(s.text_sentences),
      "monolingual sentences per language (pretraining), drawn apart per language")(
      "target-train", po::value(&s.target_train)->default_value(s.target_train),
      "English training examples of the target task (the subject's topic)")(
      "target-dev", po::value(&s.target_dev)->default_value(s.target_dev),
      "English dev examples of the target task")(
      "target-test", po::value(&s.target_test)->default_value(s.target_test),
      "test examples of the target task per language (translations of one English set)")(
      "intermediate-train", po::value(&s.intermediate_train)->default_value(s.intermediate_train),
      "intermediate examples (the object's topic), in English and translated into the mix")(
      "align-sentences", po::value(&s.align_sentences)->default_value(s.align_sentences),
      "parallel sentences per language for retrieval");
  ParsedCommand cmd =
      parse_command({"stilts synth --out DIR [--seed 1] [--text-sentences N]..."}, o, argc, argv);
  if (cmd.help) return 0;
  try {
    s.validate();
  } catch (const std::invalid_argument& e) {
    throw UsageError(e.what());
  }
  data::write_synthetic_study(out, s);
  std::printf(
      "wrote the synthetic study to %s: languages.tsv, text/, topic/, object/, "
      "object-shuffled/, align/\n",
      out.c_str());
  return 0;
}

}  // namespace stilts::launch
