// Command-line and INI parsing shared by every command: Boost.Program_options with each option
// bound to the field of the command's config it sets (`po::value(&config.field)`), `--config
// FILE.ini` whose keys are the long option names, command-line values overriding the file,
// unknown options and keys rejected, `--help` listing every option with its default, and the
// same listing as Markdown for docs/CLI.md (`stilts help --markdown`). An option without a
// default binds to a boost::optional field (Boost.Program_options reads those), a switch to a
// bool through po::bool_switch.
#pragma once

#include <boost/optional.hpp>
#include <boost/program_options.hpp>
#include <string>
#include <vector>

namespace stilts::launch {

namespace po = boost::program_options;

// Thrown for bad usage (exit status 2); every other std::exception exits with 1.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An option renamed since the previous release: its old spelling is refused, on the command
// line and in --config files, with a message naming the new one.
struct RenamedOption {
  std::string old_name, new_name;
};

// Options that apply to one mode of a command, shown apart under their caption.
struct OptionGroup {
  std::string caption;  // e.g. "--what data"
  po::options_description options;
};

struct CommandSyntax {
  std::string usage;  // the synopsis line ("stilts train [options]")
  // Options that may also be given by position, in order.
  po::positional_options_description positional = {};
  std::vector<RenamedOption> renamed = {};
  std::vector<OptionGroup> groups = {};  // besides the command's own options
};

struct ParsedCommand {
  // Which options were given (count) or left at their default (defaulted); the values are
  // already in the fields the options are bound to.
  po::variables_map values;
  bool help = false;  // --help (or --help-markdown) was given; the usage has been printed
};

// Parses argv into the bound fields of `options` and of the syntax's groups. A switch
// (po::bool_switch) takes no value on the command line; `--zero true` is refused with a message
// saying so. In a --config file a switch is `zero = true`.
ParsedCommand parse_command(const CommandSyntax& syntax, po::options_description& options, int argc,
                            char** argv);

// What `stilts help --markdown` prints before the commands: the options every command takes.
void print_general_options_markdown();

// --languages FILE: the language table of a study on other languages than XTREME-R's (the
// synthetic study's languages.tsv; data/languages.h), in experiments/languages.tsv's layout.
void add_language_table_option(po::options_description& options,
                               boost::optional<std::string>& path);
// Makes the file the language table when given (before anything is read); a missing or
// malformed file is a UsageError naming it.
void apply_language_table_option(const boost::optional<std::string>& path);

// --threads: one OpenMP/OpenBLAS pool per process, sized to the cores it owns.
void add_thread_option(po::options_description& options, int& threads);
// Sizes the pool for the --threads given (0 = the cores of the machine divided among the MPI
// ranks on it).
void apply_thread_option(int threads);

}  // namespace stilts::launch
