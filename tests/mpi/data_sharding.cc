// Data sharding across real MPI ranks; rank 0 gathers what every rank drew and checks it.
//   mpirun -np 3 mpi_data_sharding shards  each rank is one DP rank of 3: the shares of every
//                                          source's epoch are disjoint and cover it
//   mpirun -np 4 mpi_data_sharding tp-dp   TP = 2 x DP = 2 (dp_rank = rank / 2): the two ranks
//                                          of a TP group get identical batches, the two DP
//                                          groups disjoint examples
// Exits non-zero on any failure, on every rank.
#include <mpi.h>
#include <stdlib.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/batcher.h"
#include "data/corpus_writer.h"
#include "data/loader.h"
#include "data/sampler.h"

namespace stilts::data {
namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (ok) return;
  std::fprintf(stderr, "FAILED: %s\n", what.c_str());
  ++failures;
}

// Every rank's `mine`, on rank 0 (empty elsewhere).
std::vector<std::vector<int64_t>> gather(const std::vector<int64_t>& mine, int rank, int size) {
  const int count = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<size_t>(size)), displacements(static_cast<size_t>(size));
  MPI_Gather(&count, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < size; ++r) {
    displacements[static_cast<size_t>(r)] = total;
    total += counts[static_cast<size_t>(r)];
  }
  std::vector<int64_t> all(static_cast<size_t>(total));
  MPI_Gatherv(mine.data(), count, MPI_INT64_T, all.data(), counts.data(), displacements.data(),
              MPI_INT64_T, 0, MPI_COMM_WORLD);
  std::vector<std::vector<int64_t>> per_rank;
  if (rank != 0) return per_rank;
  for (int r = 0; r < size; ++r) {
    const auto begin = all.begin() + displacements[static_cast<size_t>(r)];
    per_rank.emplace_back(begin, begin + counts[static_cast<size_t>(r)]);
  }
  return per_rank;
}

// Each rank draws through next() until it holds its whole epoch-0 share of every source.
void check_shards(int rank, int size) {
  // Sizes with every remainder modulo 3, and one source of exactly 3.
  const std::vector<uint64_t> sizes{10, 7, 23, 3, 300};
  SamplerOptions options;
  options.seed = 2024;
  options.rank = rank;
  options.world = size;
  MixtureSampler sampler(sizes, options);
  std::vector<std::vector<int64_t>> drawn(sizes.size());
  auto complete = [&] {
    for (size_t s = 0; s < sizes.size(); ++s)
      if (drawn[s].size() < sampler.share_size(s)) return false;
    return true;
  };
  while (!complete()) {
    const SampleRef ref = sampler.next();
    if (drawn[ref.source].size() < sampler.share_size(ref.source))
      drawn[ref.source].push_back(static_cast<int64_t>(ref.index));
  }
  for (size_t s = 0; s < sizes.size(); ++s) {
    const std::vector<std::vector<int64_t>> shares = gather(drawn[s], rank, size);
    if (rank != 0) continue;
    std::vector<int64_t> all;
    for (const auto& share : shares) all.insert(all.end(), share.begin(), share.end());
    std::sort(all.begin(), all.end());
    std::vector<int64_t> epoch(sizes[s]);
    for (size_t i = 0; i < epoch.size(); ++i) epoch[i] = static_cast<int64_t>(i);
    check(all == epoch, "source " + std::to_string(s) + ": the " + std::to_string(size) +
                            " shares are not disjoint or do not cover the epoch");
    std::printf("source %zu: %llu examples in shares of", s,
                static_cast<unsigned long long>(sizes[s]));
    for (const auto& share : shares) std::printf(" %zu", share.size());
    std::printf("\n");
  }
}

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "stilts-mpi-XXXXXX").string();
  if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// Three corpora of varied lengths, written by each rank into its own directory.
std::vector<std::string> write_corpora(const std::string& dir) {
  std::vector<std::string> paths;
  uint64_t state = 1;
  auto tokens = [&](size_t n) {
    std::vector<int32_t> out(n);
    for (int32_t& t : out) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      t = 3 + static_cast<int32_t>((state >> 33) % 997);
    }
    return out;
  };
  const std::vector<std::pair<std::string, size_t>> sources{{"ar", 400}, {"sw", 250}, {"th", 150}};
  for (const auto& [lang, n] : sources) {
    CorpusAttributes a;
    a.task = "xnli";
    a.lang = lang;
    a.split = "train";
    a.vocab_size = 1000;
    a.tokenizer_checksum = "sha256:mpi";
    paths.push_back(dir + "/" + lang + ".h5");
    CorpusWriter writer(paths.back(), a);
    for (size_t i = 0; i < n; ++i)
      writer.add(tokens(4 + (i * 37) % 90), tokens(1 + (i * 11) % 20), lang + std::to_string(i));
    writer.finish();
  }
  return paths;
}

// [batch_size, input_len, target_len, input_ids..., labels..., (source, index)...] per batch.
void append(std::vector<int64_t>& out, const TokenBatch& b) {
  out.insert(out.end(), {b.batch_size, b.input_len, b.target_len});
  out.insert(out.end(), b.input_ids.begin(), b.input_ids.end());
  out.insert(out.end(), b.labels.begin(), b.labels.end());
  for (const SampleRef& ref : b.refs)
    out.insert(out.end(), {static_cast<int64_t>(ref.source), static_cast<int64_t>(ref.index)});
}

std::set<std::pair<int64_t, int64_t>> refs_of(const std::vector<int64_t>& encoded) {
  std::set<std::pair<int64_t, int64_t>> refs;
  for (size_t at = 0; at < encoded.size();) {
    const int64_t b = encoded[at], in = encoded[at + 1], tg = encoded[at + 2];
    at += static_cast<size_t>(3 + b * (in + tg));
    for (int64_t row = 0; row < b; ++row, at += 2) refs.insert({encoded[at], encoded[at + 1]});
  }
  return refs;
}

void check_tp_dp(int rank, int size) {
  if (size != 4) throw std::invalid_argument("tp-dp needs 4 ranks, got " + std::to_string(size));
  const int tp = 2;
  const std::string dir = make_temp_dir();
  std::vector<int64_t> encoded;
  {
    const std::vector<std::string> paths = write_corpora(dir);
    SamplerOptions sampler;
    sampler.seed = 99;
    sampler.rank = rank / tp;
    sampler.world = size / tp;
    BatcherOptions batcher;
    batcher.max_tokens = 512;
    batcher.max_input_len = 96;
    batcher.max_target_len = 24;
    Loader loader(
        [&] {
          return std::make_unique<CorpusBatcher>(paths, 1000, "sha256:mpi", sampler, batcher);
        },
        2);
    for (int i = 0; i < 6; ++i) append(encoded, loader.next());
    // Disjointness holds within an epoch; every source must still be in its first.
    for (const auto& source : loader.state()["sampler"]["sources"])
      check(source["epoch"] == 0, "rank " + std::to_string(rank) + " left epoch 0");
  }
  std::filesystem::remove_all(dir);
  const std::vector<std::vector<int64_t>> all = gather(encoded, rank, size);
  if (rank != 0) return;
  check(all[0] == all[1], "ranks 0 and 1 (DP group 0) drew different batches");
  check(all[2] == all[3], "ranks 2 and 3 (DP group 1) drew different batches");
  const auto group0 = refs_of(all[0]), group1 = refs_of(all[2]);
  std::vector<std::pair<int64_t, int64_t>> common;
  std::set_intersection(group0.begin(), group0.end(), group1.begin(), group1.end(),
                        std::back_inserter(common));
  check(!group0.empty() && !group1.empty(), "a DP group drew no examples");
  check(common.empty(), std::to_string(common.size()) + " examples went to both DP groups");
  std::printf("DP group 0: %zu examples, DP group 1: %zu, shared: %zu\n", group0.size(),
              group1.size(), common.size());
}

}  // namespace
}  // namespace stilts::data

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const std::string mode = argc > 1 ? argv[1] : "";
  try {
    if (mode == "shards")
      stilts::data::check_shards(rank, size);
    else if (mode == "tp-dp")
      stilts::data::check_tp_dp(rank, size);
    else
      throw std::invalid_argument("usage: mpi_data_sharding shards|tp-dp");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
  }
  int failed = stilts::data::failures > 0;
  MPI_Allreduce(MPI_IN_PLACE, &failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0) std::printf("%s\n", failed ? "FAILED" : "passed");
  MPI_Finalize();
  return failed;
}
