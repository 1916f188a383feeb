// STILTS_INJECT_FAULT parsing (parallel/fault_injection.h): every kind, any key order, and a
// malformed value refused with a message naming the variable and what is wrong.
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

#include "parallel/fault_injection.h"
#include "tests/unit/error_of.h"

namespace stilts {
namespace {

using testing::error_of;

TEST(FaultInjection, EmptyIsNoFault) {
  EXPECT_FALSE(parse_fault_spec("").has_value());
}

TEST(FaultInjection, ParsesEveryKind) {
  for (FaultKind kind : {FaultKind::exception, FaultKind::abort, FaultKind::segv, FaultKind::kill,
                         FaultKind::hang}) {
    auto spec = parse_fault_spec(std::string("rank=1,step=3,kind=") + fault_kind_name(kind));
    ASSERT_TRUE(spec.has_value());
    EXPECT_EQ(spec->rank, 1);
    EXPECT_EQ(spec->step, 3);
    EXPECT_EQ(spec->kind, kind);
  }
}

TEST(FaultInjection, KeysInAnyOrder) {
  auto spec = parse_fault_spec("kind=segv,step=12345678901,rank=0");
  ASSERT_TRUE(spec.has_value());
  EXPECT_EQ(spec->rank, 0);
  EXPECT_EQ(spec->step, 12345678901);
  EXPECT_EQ(spec->kind, FaultKind::segv);
}

TEST(FaultInjection, MalformedNamesTheVariable) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c :
       {Case{"rank=1,step=3", "kind is missing"}, Case{"step=3,kind=abort", "rank is missing"},
        Case{"rank=1,kind=abort", "step is missing"},
        Case{"rank=1,step=3,kind=explode", "unknown kind \"explode\""},
        Case{"rank=x,step=3,kind=abort", "rank must be a non-negative integer"},
        Case{"rank=-1,step=3,kind=abort", "rank must be a non-negative integer"},
        Case{"rank=1,step=3a,kind=abort", "step must be a non-negative integer"},
        Case{"rank=1,step=,kind=abort", "step must be a non-negative integer"},
        Case{"rank=1,step=3,kind=abort,", "\"\" is not key=value"},
        Case{"rank=1,rank=2,step=3,kind=abort", "key \"rank\" given twice"},
        Case{"rank=1,step=3,kind=abort,when=now", "unknown key \"when\""},
        Case{"rank 1", "\"rank 1\" is not key=value"}}) {
    std::string message = error_of([&] { parse_fault_spec(c.text); });
    EXPECT_NE(message.find(std::string("STILTS_INJECT_FAULT=\"") + c.text + "\""),
              std::string::npos)
        << message;
    EXPECT_NE(message.find(c.why), std::string::npos) << message;
  }
  EXPECT_THROW(parse_fault_spec("rank=1"), std::invalid_argument);
}

TEST(FaultInjection, OtherRanksAndStepsPassWithoutAFault) {
  // Without STILTS_INJECT_FAULT (read on the first call) nothing fails.
  unsetenv("STILTS_INJECT_FAULT");
  maybe_inject_fault(0, 1);
  maybe_inject_fault(1, 3);
}

}  // namespace
}  // namespace stilts
