// Paths to the hand-written XTREME fixtures and a way to look at an error's text.
#pragma once

#include <exception>
#include <string>

namespace stilts::data::testing {

inline std::string fixture(const std::string& relative) {
  return std::string(STILTS_FIXTURES) + "/xtreme/" + relative;
}

// The message of what `read` throws, so a test can check it names the file and position.
template <class Read>
std::string error_of(Read&& read) {
  try {
    read();
  } catch (const std::exception& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace stilts::data::testing
