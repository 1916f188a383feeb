// stilts loss: score token ids under a checkpoint, for debugging a model by hand.
#include <cstdio>
#include <sstream>

#include "core/model.h"
#include "kernels/ops.h"
#include "launch/commands/commands.h"
#include "launch/model_source.h"
#include "launch/options.h"

namespace stilts::launch {
namespace {

// "5 6 7 1;9 10 1" -> {{5,6,7,1},{9,10,1}}.
std::vector<std::vector<int32_t>> parse_sequences(const std::string& text, const char* option) {
  std::vector<std::vector<int32_t>> out;
  std::stringstream all(text);
  std::string part;
  while (std::getline(all, part, ';')) {
    std::stringstream tokens(part);
    std::string token;
    std::vector<int32_t> sequence;
    while (tokens >> token) {
      size_t used = 0;
      long value = 0;
      try {
        value = std::stol(token, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != token.size() || value < 0 || value > INT32_MAX)
        throw UsageError(std::string("--") + option + ": '" + token +
                         "' is not a token id (expected non-negative integers)");
      sequence.push_back(static_cast<int32_t>(value));
    }
    if (sequence.empty())
      throw UsageError(std::string("--") + option + ": sequence " + std::to_string(out.size()) +
                       " is empty");
    out.push_back(std::move(sequence));
  }
  if (out.empty()) throw UsageError(std::string("--") + option + ": no sequences");
  return out;
}

}  // namespace

int run_loss(int argc, char** argv) {
  std::string checkpoint, input_text, label_text;
  float z_loss = 0;
  int threads = 0;
  po::options_description o("stilts loss");
  o.add_options()("checkpoint", po::value(&checkpoint)->required(),
                  "a stilts checkpoint (run or step directory) or a Hugging Face model directory")(
      "inputs", po::value(&input_text)->required(),
      "input token ids: sequences separated by ';', ids by spaces")(
      "labels", po::value(&label_text)->required(), "label token ids, one sequence per input")(
      "z-loss", po::value(&z_loss)->default_value(0.0f), "add z_loss * logsumexp^2 per token");
  add_thread_option(o, threads);
  ParsedCommand cmd = parse_command(
      {"stilts loss --checkpoint DIR --inputs \"5 6 7 1;9 10 1\" --labels \"11 12 1;13 1\""}, o,
      argc, argv);
  if (cmd.help) return 0;
  apply_thread_option(threads);

  auto inputs = parse_sequences(input_text, "inputs");
  auto labels = parse_sequences(label_text, "labels");
  if (inputs.size() != labels.size())
    throw UsageError("--inputs has " + std::to_string(inputs.size()) +
                     " sequences but --labels has " + std::to_string(labels.size()));
  std::unique_ptr<Parameters> params = load_model(checkpoint);
  Batch batch = make_batch(inputs, labels, params->config().pad_token_id);
  Mt5Model model(*params);
  HeadLoss loss = model.forward(batch, {false, z_loss, 0, 0});
  for (int64_t b = 0; b < batch.batch_size; ++b) {
    Tensor row = model.token_losses().rows(b * batch.target_len, (b + 1) * batch.target_len);
    std::printf("example %lld nll %.6f\n", static_cast<long long>(b), ops::sum(row));
  }
  std::printf("loss %.6f\n", loss.mean());
  return 0;
}

}  // namespace stilts::launch
