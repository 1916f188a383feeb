#include "parallel/grid.h"

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace stilts {
namespace {

std::vector<int64_t> divisors(int64_t n) {
  std::vector<int64_t> result;
  for (int64_t d = 1; d <= n; ++d)
    if (n % d == 0) result.push_back(d);
  return result;
}

// "1, 2, 3 or 6"
std::string either(const std::vector<int64_t>& values) {
  std::string text;
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) text += i + 1 == values.size() ? " or " : ", ";
    text += std::to_string(values[i]);
  }
  return text;
}

}  // namespace

ProcessGrid::ProcessGrid(int world_size, int rank, int tp)
    : world_size_(world_size), rank_(rank), tp_(tp) {
  if (world_size < 1)
    throw std::invalid_argument("world size " + std::to_string(world_size) + " must be >= 1");
  if (tp < 1) throw std::invalid_argument("--tp " + std::to_string(tp) + " must be >= 1");
  if (rank < 0 || rank >= world_size)
    throw std::invalid_argument("rank " + std::to_string(rank) + " is outside world size " +
                                std::to_string(world_size));
  if (world_size % tp != 0) {
    std::vector<int64_t> worlds;
    int below = world_size / tp * tp;
    if (below > 0) worlds.push_back(below);
    worlds.push_back(below + tp);
    throw std::invalid_argument("world size " + std::to_string(world_size) +
                                " is not a multiple of --tp " + std::to_string(tp) + "; use --tp " +
                                either(divisors(world_size)) + ", or " + either(worlds) + " ranks");
  }
}

void ProcessGrid::validate_model(int64_t num_heads, int64_t d_ff, int64_t vocab_size) const {
  struct Dimension {
    const char* name;
    int64_t value;
  };
  const Dimension dimensions[] = {
      {"num_heads", num_heads}, {"d_ff", d_ff}, {"vocab_size", vocab_size}};
  std::string failing;
  int failures = 0;
  int64_t common = world_size_;
  for (const Dimension& dimension : dimensions) {
    if (dimension.value < 1)
      throw std::invalid_argument(std::string(dimension.name) + " " +
                                  std::to_string(dimension.value) + " must be >= 1");
    common = std::gcd(common, dimension.value);
    if (dimension.value % tp_ == 0) continue;
    failing += (failing.empty() ? "" : " and ") + std::string(dimension.name) + " " +
               std::to_string(dimension.value);
    ++failures;
  }
  if (!failing.empty())
    throw std::invalid_argument(failing + (failures == 1 ? " is" : " are") +
                                " not divisible by --tp " + std::to_string(tp_) +
                                "; with world size " + std::to_string(world_size_) + " use --tp " +
                                either(divisors(common)));
}

ProcessGrid::Groups ProcessGrid::make_communicators(Communicator& world) const {
  if (world.size() != world_size_ || world.rank() != rank_)
    throw std::invalid_argument("make_communicators: " + world.name() +
                                " is not the grid's world (rank " + std::to_string(rank_) + " of " +
                                std::to_string(world_size_) + ")");
  // Every rank splits in this order: split is collective over the world.
  Groups groups;
  groups.tp = world.split(dp_rank(), rank_);
  groups.dp = world.split(tp_rank(), rank_);
  return groups;
}

}  // namespace stilts
