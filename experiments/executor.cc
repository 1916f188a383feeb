#include "experiments/executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <vector>

#include "experiments/manifest.h"

extern char** environ;

namespace stilts::experiments {
namespace {

namespace fs = std::filesystem;

constexpr int kForwarded[] = {SIGINT, SIGTERM};
constexpr int kTailLines = 20;
constexpr const char* kAttemptHeader = "[stilts experiment] attempt ";

// The first SIGINT or SIGTERM that arrived, and the running stage's process group, which the
// handler passes every such signal on to (a stage runs in its own group, so a terminal's ^C
// reaches the executor alone and the stage is stopped once, by the executor).
volatile sig_atomic_t g_signal = 0;
volatile sig_atomic_t g_stage_group = 0;

void forward_signal(int signal) {
  if (!g_signal) g_signal = signal;
  if (g_stage_group > 0) kill(-g_stage_group, signal);
}

// Installs the forwarding for the time the grid runs and puts the previous handlers back.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_signal = 0;
    g_stage_group = 0;
    struct sigaction action {};
    action.sa_handler = forward_signal;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kForwarded); ++i)
      sigaction(kForwarded[i], &action, &previous_[i]);
  }
  ~SignalForwarding() {
    for (size_t i = 0; i < std::size(kForwarded); ++i)
      sigaction(kForwarded[i], &previous_[i], nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction previous_[std::size(kForwarded)]{};
};

// An argument as a POSIX shell reads it, so a printed command line can be pasted.
std::string shell_quoted(const std::string& arg) {
  if (!arg.empty() && std::all_of(arg.begin(), arg.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("-_./=:,+@%", c);
      }))
    return arg;
  std::string out = "'";
  for (char c : arg) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shown(const std::vector<std::string>& line) {
  std::string out;
  for (const std::string& arg : line) {
    if (!out.empty()) out += ' ';
    out += shell_quoted(arg);
  }
  return out;
}

std::string signal_name(int signal) {
  return signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : strsignal(signal);
}

// Starts `line` (searched on PATH) in a process group of its own, with the default actions
// for the forwarded signals whatever the executor's were, stdin from /dev/null and stdout and
// stderr appended to `log`.
pid_t start_stage(const std::vector<std::string>& line, const std::string& log) {
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults, unblocked;
  sigemptyset(&defaults);
  for (int signal : kForwarded) sigaddset(&defaults, signal);
  sigemptyset(&unblocked);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setsigmask(&attributes, &unblocked);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  std::vector<char*> argv;
  for (const std::string& arg : line) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int error = posix_spawnp(&pid, argv[0], &files, &attributes, argv.data(), environ);
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&files);
  if (error)
    throw std::runtime_error("cannot start " + line[0] + " (log " + log +
                             "): " + std::strerror(error));
  return pid;
}

// Runs the stage's command to its end; a signal that arrives meanwhile is passed on to it.
int run_to_end(const std::vector<std::string>& line, const std::string& log) {
  const pid_t pid = start_stage(line, log);
  g_stage_group = pid;
  if (g_signal) kill(-pid, g_signal);  // arrived while it was being started
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
  g_stage_group = 0;
  return status;
}

// Appends the header of this attempt to the stage's log: a rerun's output follows the earlier.
void start_log(const std::string& log, const std::string& stage_id,
               const std::vector<std::string>& line) {
  fs::create_directories(fs::path(log).parent_path());
  int attempts = 0;
  {
    std::ifstream in(log);
    for (std::string text; std::getline(in, text);) attempts += text.rfind(kAttemptHeader, 0) == 0;
  }
  std::ofstream out(log, std::ios::app);
  out << kAttemptHeader << attempts + 1 << " of " << stage_id << " at "
      << iso8601_utc(std::chrono::system_clock::now()) << ": " << shown(line) << "\n";
  if (!out) throw std::runtime_error(log + ": cannot write the stage's log");
}

// The last lines of a log, read from its end (a training log can be long).
std::vector<std::string> log_tail(const std::string& log) {
  std::ifstream in(log, std::ios::binary | std::ios::ate);
  const std::streamoff size = in.tellg();
  in.seekg(std::max<std::streamoff>(0, size - 64 * 1024));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  if (lines.size() > kTailLines) lines.erase(lines.begin(), lines.end() - kTailLines);
  return lines;
}

// `what`: where the signal found the grid.
Interrupted interrupted(const std::string& what) {
  return Interrupted(
      signal_name(g_signal) + ": " + what + "; run the same command again to resume the grid",
      g_signal);
}

std::string state_of(const Manifest& manifest, const Stage& stage) {
  if (manifest.finished(stage.id)) return "finished";
  return manifest.stages().count(stage.id) ? "started" : "pending";
}

std::string counted(size_t k, size_t n) {
  std::ostringstream text;
  text << "[" << k << "/" << n << "] ";
  return text.str();
}

}  // namespace

std::string stage_log_path(const std::string& runs_dir, const std::string& stage_id) {
  std::string name = stage_id;
  for (size_t at; (at = name.find('/')) != std::string::npos;) name.replace(at, 1, "__");
  return (fs::path(runs_dir) / "logs" / (name + ".log")).string();
}

int run_plan(const Grid& grid, const Plan& plan, const ExecutorOptions& options) {
  std::ostream& out = *options.out;
  Manifest manifest = Manifest::load(Manifest::path_in(grid.runs_dir), grid.name);
  // Edited and forced: the records took the grid's new arguments.
  const bool edited = manifest.check_plan(plan, options.force);
  const std::vector<const Stage*> left = next_stages(plan, manifest);
  const size_t finished = plan.stages.size() - left.size();

  if (options.dry_run) {
    for (size_t i = 0; i < plan.stages.size(); ++i) {
      const Stage& stage = plan.stages[i];
      out << counted(i + 1, plan.stages.size()) << state_of(manifest, stage) << " " << stage.id
          << ": " << shown(command_line(grid.launcher, options.stilts, stage)) << "\n";
    }
    out << "dry run: " << left.size() << " of " << plan.stages.size() << " stages to run, "
        << finished << " finished (" << manifest.path() << "); nothing was run or written\n";
    return 0;
  }
  if (edited) {
    manifest.save();
    out << "--force: recorded the grid's new arguments in " << manifest.path() << "\n";
  }
  if (left.empty()) {
    out << "nothing to do: all " << plan.stages.size() << " stages of grid " << grid.name
        << " have finished (" << manifest.path() << ")\n";
    return 0;
  }

  const SignalForwarding forwarding;
  for (size_t k = 0; k < left.size(); ++k) {
    const Stage& stage = *left[k];
    const std::vector<std::string> line = command_line(grid.launcher, options.stilts, stage);
    const std::string log = stage_log_path(grid.runs_dir, stage.id);
    if (g_signal) throw interrupted("stopped before stage " + stage.id + " started");
    out << counted(k + 1, left.size()) << stage.id << ": " << shown(line) << std::endl;
    write_stage_files(stage);
    manifest.mark_started(stage);
    manifest.save();
    start_log(log, stage.id, line);
    const auto start = std::chrono::steady_clock::now();
    const int status = run_to_end(line, log);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      if (g_signal)
        throw interrupted("stopped stage " + stage.id + " (log " + log + "), which stays started");
      out << "last lines of " << log << ":\n";
      for (const std::string& text : log_tail(log)) out << "  " << text << "\n";
      out << std::flush;
      throw StageFailed("stage " + stage.id + " failed with " +
                        (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                           : "signal " + signal_name(WTERMSIG(status))) +
                        " (log " + log +
                        "); it stays started: run the same command again to rerun it");
    }
    make_stage_links(stage);
    manifest.mark_finished(stage);
    manifest.save();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", took.count());
    out << counted(k + 1, left.size()) << stage.id << ": done in " << seconds << " s" << std::endl;
  }
  out << "ran " << left.size() << " stages, skipped " << finished
      << " finished; next: stilts report " << grid.runs_dir << "\n";
  return static_cast<int>(left.size());
}

}  // namespace stilts::experiments
