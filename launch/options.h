// Command-line and INI parsing shared by every command: Boost.Program_options, `--config
// FILE.ini` whose keys are the long option names, command-line values overriding the file,
// unknown options and keys rejected, `--help` listing every option with its default.
#pragma once

#include <boost/program_options.hpp>
#include <string>

namespace stilts::launch {

namespace po = boost::program_options;

// Thrown for bad usage (exit status 2); every other std::exception exits with 1.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct ParsedCommand {
  po::variables_map values;
  bool help = false;  // --help was given; the usage has been printed
};

// `usage` is the synopsis line ("stilts train [options]"). `positional` names options that
// may also be given by position, in order.
ParsedCommand parse_command(const std::string& usage, po::options_description& options, int argc,
                            char** argv, const po::positional_options_description& positional = {});

// --threads: one OpenMP/OpenBLAS pool per process, sized to the cores it owns.
void add_thread_option(po::options_description& options);
void apply_thread_option(const po::variables_map& values);

}  // namespace stilts::launch
