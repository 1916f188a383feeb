#include "launch/options.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "kernels/ops.h"

namespace stilts::launch {

ParsedCommand parse_command(const std::string& usage, po::options_description& options, int argc,
                            char** argv, const po::positional_options_description& positional) {
  po::options_description generic("General");
  generic.add_options()("help,h", "print this help and exit")(
      "config", po::value<std::string>(), "INI file of options (keys are the long option names)");
  po::options_description all;
  all.add(generic).add(options);

  ParsedCommand parsed;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
              parsed.values);
    if (parsed.values.count("help")) {
      std::cout << "usage: " << usage << "\n\n" << all << '\n';
      parsed.help = true;
      return parsed;
    }
    if (parsed.values.count("config")) {
      const std::string path = parsed.values["config"].as<std::string>();
      std::ifstream file(path);
      if (!file) throw UsageError("--config: cannot open '" + path + "'");
      try {
        // Stored after the command line, so command-line values win.
        po::store(po::parse_config_file(file, options, false), parsed.values);
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

void add_thread_option(po::options_description& options) {
  options.add_options()("threads", po::value<int>()->default_value(0),
                        "CPU threads for kernels and BLAS (0 = the cores of the machine divided "
                        "among the MPI ranks on it)");
}

void apply_thread_option(const po::variables_map& values) {
  int threads = values["threads"].as<int>();
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
