// The prefetching loader: the batcher's stream unchanged, the consumer's position as state,
// errors carried to the consumer, HDF5 opened on the prefetch thread.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "data/corpus_writer.h"
#include "data/loader.h"
#include "tests/unit/checkpoint/test_util.h"
#include "tests/unit/data/sampler/memory_store.h"

namespace stilts::data {
namespace {

using testing::MemoryStore;

const MemoryStore& store() {
  static const MemoryStore s({300, 40, 2000}, 120, 30);
  return s;
}

SamplerOptions sampler_options() {
  SamplerOptions s;
  s.seed = 8;
  return s;
}

BatcherOptions batcher_options() {
  BatcherOptions b;
  b.max_tokens = 1024;
  b.max_input_len = 120;
  b.max_target_len = 30;
  return b;
}

Loader::Factory batchers() {
  return [] { return std::make_unique<Batcher>(store(), sampler_options(), batcher_options()); };
}

TEST(Loader, YieldsTheBatchersStream) {
  Batcher direct(store(), sampler_options(), batcher_options());
  Loader loader(batchers(), 3);
  EXPECT_EQ(loader.state(), direct.state());
  for (int i = 0; i < 25; ++i) {
    ASSERT_EQ(loader.next(), direct.next());
    ASSERT_EQ(loader.state(), direct.state());
  }
}

TEST(Loader, StateIsTheConsumersPositionAndResumes) {
  std::vector<TokenBatch> expected;
  nlohmann::json saved;
  {
    Loader loader(batchers(), 4);
    for (int i = 0; i < 5; ++i) loader.next();
    saved = nlohmann::json::parse(loader.state().dump());
    for (int i = 0; i < 10; ++i) expected.push_back(loader.next());
    // Rewinding in place drops what was prefetched.
    loader.restore(saved);
    for (const TokenBatch& batch : expected) ASSERT_EQ(loader.next(), batch);
  }
  Loader resumed(batchers(), 2);
  resumed.restore(saved);
  EXPECT_EQ(resumed.state(), saved);
  for (const TokenBatch& batch : expected) ASSERT_EQ(resumed.next(), batch);
}

// Yields batches of one row numbered 0, 1, ... and throws at `fail_at`.
class FailingSource : public BatchSource {
 public:
  explicit FailingSource(int fail_at) : fail_at_(fail_at) {}
  TokenBatch next() override {
    if (count_ == fail_at_) throw std::runtime_error("corrupt chunk in ar.h5");
    TokenBatch b;
    b.batch_size = ++count_;
    return b;
  }
  nlohmann::json state() const override { return count_; }
  void restore(const nlohmann::json& state) override { count_ = state.get<int>(); }

 private:
  int fail_at_;
  int count_ = 0;
};

TEST(Loader, CarriesTheSourcesErrorsToTheConsumer) {
  Loader loader([] { return std::make_unique<FailingSource>(3); }, 8);
  EXPECT_EQ(loader.next().batch_size, 1);
  EXPECT_EQ(loader.next().batch_size, 2);
  EXPECT_EQ(loader.next().batch_size, 3);
  EXPECT_EQ(stilts::testing::message_of([&] { loader.next(); }), "corrupt chunk in ar.h5");
  EXPECT_THROW(loader.next(), std::runtime_error);
  EXPECT_EQ(loader.state(), 3);
  // A restore resumes production after an error.
  loader.restore(1);
  EXPECT_EQ(loader.next().batch_size, 2);
}

TEST(Loader, CarriesConstructionAndRestoreErrors) {
  EXPECT_EQ(
      stilts::testing::message_of([] {
        Loader loader(
            []() -> std::unique_ptr<BatchSource> { throw std::runtime_error("no such corpus"); },
            2);
      }),
      "no such corpus");
  EXPECT_THROW(Loader(batchers(), 0), std::invalid_argument);
  Loader loader(batchers(), 2);
  nlohmann::json other = loader.state();
  other["sampler"]["seed"] = 999;
  EXPECT_THROW(loader.restore(other), std::invalid_argument);
  EXPECT_THROW(loader.next(), std::invalid_argument);
  Batcher direct(store(), sampler_options(), batcher_options());
  loader.restore(direct.state());
  EXPECT_EQ(loader.next(), direct.next());
}

TEST(Loader, OpensCorporaOnItsThread) {
  stilts::testing::TempDir dir;
  std::vector<std::string> paths;
  for (size_t s = 0; s < store().sizes().size(); ++s) {
    CorpusAttributes a;
    a.task = "xnli";
    a.lang = "l" + std::to_string(s);
    a.split = "train";
    a.vocab_size = 1000;
    a.tokenizer_checksum = "sha256:feed";
    paths.push_back(dir / (a.lang + ".h5"));
    CorpusWriter writer(paths.back(), a);
    for (uint64_t i = 0; i < store().sizes()[s]; ++i)
      writer.add(store().input({s, i}), store().target({s, i}), store().id({s, i}));
    writer.finish();
  }
  Batcher direct(store(), sampler_options(), batcher_options());
  Loader loader(
      [&] {
        return std::make_unique<CorpusBatcher>(paths, 1000, "sha256:feed", sampler_options(),
                                               batcher_options());
        ;
      },
      3);
  for (int i = 0; i < 10; ++i) ASSERT_EQ(loader.next(), direct.next());
}

}  // namespace
}  // namespace stilts::data
