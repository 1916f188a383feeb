#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "parallel/grid.h"
#include "tests/unit/error_of.h"

namespace stilts {
namespace {

using testing::error_of;

struct Layout {
  int world;
  int tp;
};

TEST(ProcessGrid, RanksFollowTheTpInnermostLayout) {
  for (Layout layout : {Layout{1, 1}, Layout{4, 1}, Layout{4, 2}, Layout{4, 4}, Layout{6, 3},
                        Layout{8, 2}, Layout{12, 4}}) {
    for (int rank = 0; rank < layout.world; ++rank) {
      ProcessGrid grid(layout.world, rank, layout.tp);
      SCOPED_TRACE("world " + std::to_string(layout.world) + " tp " + std::to_string(layout.tp) +
                   " rank " + std::to_string(rank));
      EXPECT_EQ(grid.dp(), layout.world / layout.tp);
      EXPECT_EQ(grid.tp_rank(), rank % layout.tp);
      EXPECT_EQ(grid.dp_rank(), rank / layout.tp);
      EXPECT_EQ(grid.dp_rank() * grid.tp() + grid.tp_rank(), rank);
    }
  }
}

TEST(ProcessGrid, ExampleGrid) {
  ProcessGrid grid(8, 5, 2);
  EXPECT_EQ(grid.world_size(), 8);
  EXPECT_EQ(grid.rank(), 5);
  EXPECT_EQ(grid.tp(), 2);
  EXPECT_EQ(grid.dp(), 4);
  EXPECT_EQ(grid.tp_rank(), 1);
  EXPECT_EQ(grid.dp_rank(), 2);
}

TEST(ProcessGrid, RefusesAWorldThatIsNotAMultipleOfTp) {
  EXPECT_THROW(ProcessGrid(6, 0, 4), std::invalid_argument);
  EXPECT_EQ(error_of([] { ProcessGrid(6, 0, 4); }),
            "world size 6 is not a multiple of --tp 4; use --tp 1, 2, 3 or 6, or 4 or 8 ranks");
  EXPECT_EQ(error_of([] { ProcessGrid(2, 1, 4); }),
            "world size 2 is not a multiple of --tp 4; use --tp 1 or 2, or 4 ranks");
  EXPECT_EQ(error_of([] { ProcessGrid(7, 0, 2); }),
            "world size 7 is not a multiple of --tp 2; use --tp 1 or 7, or 6 or 8 ranks");
}

TEST(ProcessGrid, RefusesBadArguments) {
  EXPECT_NE(error_of([] { ProcessGrid(0, 0, 1); }).find("world size 0"), std::string::npos);
  EXPECT_NE(error_of([] { ProcessGrid(4, 0, 0); }).find("--tp 0"), std::string::npos);
  EXPECT_NE(error_of([] { ProcessGrid(4, 4, 2); }).find("rank 4 is outside world size 4"),
            std::string::npos);
  EXPECT_NE(error_of([] { ProcessGrid(4, -1, 2); }).find("rank -1"), std::string::npos);
}

TEST(ProcessGrid, AcceptsAModelWhoseShardedDimensionsDivide) {
  // mt5-small: 6 heads, d_ff 1024, vocabulary 250112.
  EXPECT_NO_THROW(ProcessGrid(4, 0, 2).validate_model(6, 1024, 250112));
  EXPECT_NO_THROW(ProcessGrid(1, 0, 1).validate_model(7, 1001, 250111));
  EXPECT_NO_THROW(ProcessGrid(8, 0, 8).validate_model(16, 2048, 250112));
}

TEST(ProcessGrid, RefusesAModelThatTpDoesNotDivide) {
  EXPECT_EQ(error_of([] { ProcessGrid(4, 0, 4).validate_model(6, 1024, 250112); }),
            "num_heads 6 is not divisible by --tp 4; with world size 4 use --tp 1 or 2");
  EXPECT_EQ(error_of([] { ProcessGrid(6, 0, 3).validate_model(6, 1024, 250112); }),
            "d_ff 1024 and vocab_size 250112 are not divisible by --tp 3; with world size 6 use "
            "--tp 1 or 2");
  EXPECT_EQ(error_of([] { ProcessGrid(8, 0, 8).validate_model(12, 3072, 250112); }),
            "num_heads 12 is not divisible by --tp 8; with world size 8 use --tp 1, 2 or 4");
  EXPECT_NE(error_of([] {
              ProcessGrid(2, 0, 2).validate_model(0, 1024, 250112);
            }).find("num_heads 0 must be >= 1"),
            std::string::npos);
}

}  // namespace
}  // namespace stilts
