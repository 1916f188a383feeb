// The message of what a call throws, so a test can check that it names the file, the position
// and what was expected.
#pragma once

#include <exception>
#include <string>

namespace stilts::testing {

template <class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace stilts::testing
