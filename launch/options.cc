#include "launch/options.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "data/languages.h"
#include "kernels/ops.h"

namespace stilts::launch {
namespace {

po::options_description general_options() {
  po::options_description generic("General");
  generic.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>(), "INI file of options (keys are the long option names)");
  return generic;
}

bool is_switch(const po::option_description& option) {
  return option.semantic()->max_tokens() == 0;
}

bool is_boolean_word(const std::string& word) {
  for (const char* w : {"true", "false", "yes", "no", "on", "off", "1", "0"})
    if (word == w) return true;
  return false;
}

void refuse_if_renamed(const std::vector<RenamedOption>& renamed, const std::string& name,
                       const std::string& where) {
  for (const RenamedOption& r : renamed)
    if (r.old_name == name)
      throw UsageError(where + "--" + r.old_name + " was renamed --" + r.new_name +
                       " (see --help)");
}

// Boost would report a renamed option as unknown and a switch given a value as a stray
// positional argument; both are spellings of the previous release, refused by name here.
void refuse_old_spellings(const CommandSyntax& syntax, const po::options_description& declared,
                          int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string token = argv[i];
    if (token.size() < 3 || token.rfind("--", 0) != 0) continue;
    const size_t equals = token.find('=');
    const std::string name = token.substr(2, equals == std::string::npos ? equals : equals - 2);
    refuse_if_renamed(syntax.renamed, name, "");
    const po::option_description* option = declared.find_nothrow(name, false);
    if (option && is_switch(*option) &&
        (equals != std::string::npos || (i + 1 < argc && is_boolean_word(argv[i + 1]))))
      throw UsageError("--" + name + " is a switch and takes no value: give --" + name +
                       " to turn it on, leave it out to keep it off (in a --config file: " + name +
                       " = true)");
  }
}

// A table cell: a '|' would end the cell.
std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// One row per option: the option with its argument, the default (as --help shows it) and the
// description.
void print_markdown_table(const po::options_description& options) {
  std::cout << "| option | default | description |\n|---|---|---|\n";
  for (const auto& option : options.options()) {
    std::string argument = option->format_parameter(), default_text;
    if (const size_t at = argument.find(" (="); at != std::string::npos && argument.back() == ')') {
      default_text = "`" + argument.substr(at + 3, argument.size() - at - 4) + "`";
      argument.erase(at);
    }
    if (option->semantic()->is_required()) default_text = "required";
    if (is_switch(*option)) default_text = "off";
    std::cout << "| `--" << option->long_name() << (argument.empty() ? "" : " " + argument)
              << "` | " << cell(default_text) << " | " << cell(option->description()) << " |\n";
  }
  std::cout << '\n';
}

}  // namespace

ParsedCommand parse_command(const CommandSyntax& syntax, po::options_description& options, int argc,
                            char** argv) {
  // declared: what --config files may set; shown: what --help lists; all: what argv may hold.
  po::options_description declared, shown;
  declared.add(options);
  shown.add(general_options()).add(options);
  for (const OptionGroup& group : syntax.groups) {
    declared.add(group.options);
    po::options_description captioned(group.caption);
    captioned.add(group.options);
    shown.add(captioned);
  }
  po::options_description hidden;
  hidden.add_options()("help-markdown", "");
  po::options_description all;
  all.add(shown).add(hidden);

  ParsedCommand parsed;
  refuse_old_spellings(syntax, declared, argc, argv);
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(syntax.positional).run(),
              parsed.values);
    if (parsed.values.count("help")) {
      std::cout << "usage: " << syntax.usage << "\n\n" << shown << '\n';
      parsed.help = true;
      return parsed;
    }
    if (parsed.values.count("help-markdown")) {
      std::cout << "usage: `" << syntax.usage << "`\n\n";
      print_markdown_table(options);
      for (const OptionGroup& group : syntax.groups) {
        std::cout << "With `" << group.caption << "`:\n\n";
        print_markdown_table(group.options);
      }
      parsed.help = true;
      return parsed;
    }
    if (parsed.values.count("config")) {
      const std::string path = parsed.values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) throw UsageError("--config: cannot open '" + path + "'");
      po::parsed_options from_file(&declared);
      try {
        from_file = po::parse_config_file(file, declared, true);
      } catch (const po::error& e) {
        throw UsageError(path + ": " + e.what());
      }
      for (const po::option& key : from_file.options)
        if (key.unregistered) {
          refuse_if_renamed(syntax.renamed, key.string_key, path + ": ");
          throw UsageError(path + ": unrecognised option '" + key.string_key + "'");
        }
      try {
        // Stored after the command line, so command-line values win.
        po::store(from_file, parsed.values);
      } catch (const po::error& e) {
        throw UsageError(path + ": " + e.what());
      }
    }
    po::notify(parsed.values);
  } catch (const po::error& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }
  return parsed;
}

void print_general_options_markdown() {
  print_markdown_table(general_options());
}

void add_language_table_option(po::options_description& options,
                               boost::optional<std::string>& path) {
  options.add_options()("languages", po::value(&path),
                        "the language table of the study's languages (code, name, family, "
                        "branch, script; experiments/languages.tsv's layout); default: the 50 "
                        "XTREME-R languages");
}

void apply_language_table_option(const boost::optional<std::string>& path) {
  if (!path) return;
  try {
    data::use_language_table(*path);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--languages: ") + e.what());
  }
}

void add_thread_option(po::options_description& options, int& threads) {
  options.add_options()("threads", po::value(&threads)->default_value(0),
                        "CPU threads for kernels and BLAS (0 = the cores of the machine divided "
                        "among the MPI ranks on it)");
}

void apply_thread_option(int threads) {
  if (threads < 0) throw UsageError("--threads: must be >= 0");
  if (threads == 0) {
    // The ranks an MPI launcher starts on this node share its cores (OpenMPI and MPICH name
    // their count in the environment); one pool per rank of its share avoids oversubscribing.
    int local_ranks = 1;
    for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS"})
      if (const char* value = std::getenv(name)) local_ranks = std::max(1, std::atoi(value));
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::max(1, cores / local_ranks);
  }
  ops::set_cpu_threads(threads);
}

}  // namespace stilts::launch
