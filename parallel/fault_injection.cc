#include "parallel/fault_injection.h"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace stilts {
namespace {

constexpr const char* kVariable = "STILTS_INJECT_FAULT";

[[noreturn]] void malformed(const std::string& text, const std::string& why) {
  throw std::invalid_argument(std::string(kVariable) + "=\"" + text + "\": " + why +
                              " (expected rank=R,step=S,kind=exception|abort|segv|kill|hang)");
}

template <class T>
T parse_number(const std::string& text, std::string_view key, std::string_view value) {
  T number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (error != std::errc() || end != value.data() + value.size() || value.empty() || number < 0)
    malformed(text, std::string(key) + " must be a non-negative integer, got \"" +
                        std::string(value) + "\"");
  return number;
}

FaultKind parse_kind(const std::string& text, std::string_view value) {
  for (FaultKind kind :
       {FaultKind::exception, FaultKind::abort, FaultKind::segv, FaultKind::kill, FaultKind::hang})
    if (value == fault_kind_name(kind)) return kind;
  malformed(text, "unknown kind \"" + std::string(value) + "\"");
}

}  // namespace

const char* fault_kind_name(FaultKind kind) {
  switch (kind) {
    case FaultKind::exception:
      return "exception";
    case FaultKind::abort:
      return "abort";
    case FaultKind::segv:
      return "segv";
    case FaultKind::kill:
      return "kill";
    case FaultKind::hang:
      return "hang";
  }
  return "?";
}

std::optional<FaultSpec> parse_fault_spec(const std::string& text) {
  if (text.empty()) return std::nullopt;
  FaultSpec spec;
  bool have_rank = false, have_step = false, have_kind = false;
  std::string_view rest(text);
  while (true) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    size_t equals = item.find('=');
    if (equals == std::string_view::npos)
      malformed(text, "\"" + std::string(item) + "\" is not key=value");
    std::string_view key = item.substr(0, equals);
    std::string_view value = item.substr(equals + 1);
    bool* seen = nullptr;
    if (key == "rank") {
      spec.rank = parse_number<int>(text, key, value);
      seen = &have_rank;
    } else if (key == "step") {
      spec.step = parse_number<int64_t>(text, key, value);
      seen = &have_step;
    } else if (key == "kind") {
      spec.kind = parse_kind(text, value);
      seen = &have_kind;
    } else {
      malformed(text, "unknown key \"" + std::string(key) + "\"");
    }
    if (*seen) malformed(text, "key \"" + std::string(key) + "\" given twice");
    *seen = true;
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  if (!have_rank) malformed(text, "rank is missing");
  if (!have_step) malformed(text, "step is missing");
  if (!have_kind) malformed(text, "kind is missing");
  return spec;
}

void maybe_inject_fault(int world_rank, int64_t step) {
  static const std::optional<FaultSpec> spec = [] {
    const char* value = std::getenv(kVariable);
    return parse_fault_spec(value ? value : "");
  }();
  if (!spec || spec->rank != world_rank || spec->step != step) return;
  switch (spec->kind) {
    case FaultKind::exception:
      throw std::runtime_error("injected fault: exception at step " + std::to_string(step) + " (" +
                               kVariable + ")");
    case FaultKind::abort:
      std::abort();
    case FaultKind::segv:
      raise(SIGSEGV);
      break;
    case FaultKind::kill:
      raise(SIGKILL);
      break;
    case FaultKind::hang:
      while (true) pause();
  }
}

}  // namespace stilts
