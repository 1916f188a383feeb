#include "experiments/report_plots.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace stilts::experiments {

namespace fs = std::filesystem;

namespace {

// Figure file names from task and model names, which come from folder names: anything but
// letters, digits, '.', '-' and '_' becomes '_'.
std::string file_safe(const std::string& name) {
  std::string safe = name;
  for (char& c : safe)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return safe;
}

// A gnuplot data-file string: double-quoted, so names with spaces stay one column.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text)
    if (c != '"' && c != '\n') out += c;
  return out + "\"";
}

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

void write_text(const fs::path& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

// Each figure is drawn twice: to SVG by the plot command that follows this, then to PNG by a
// replot, so both files show the same figure.
std::string svg_output(const std::string& stem, int width, int height) {
  return "set terminal svg size " + std::to_string(width) + "," + std::to_string(height) +
         " dynamic background rgb 'white'\nset output '" + stem + ".svg'\n";
}
std::string png_replot(const std::string& stem, int width, int height) {
  return "set terminal pngcairo size " + std::to_string(width) + "," + std::to_string(height) +
         "\nset output '" + stem + ".png'\nreplot\nunset output\n";
}

// One line per column of the groups ("all" and each family) that has a value for some model.
struct GainSeries {
  std::string label;
  std::vector<std::optional<double>> by_model;
};

void add_gain_figure(const TaskSection& task, const std::string& what, const std::string& title,
                     const std::function<std::optional<double>(const ReportRow&)>& value,
                     const fs::path& dir, std::ostringstream& script, PlotSet& plots) {
  std::vector<GainSeries> series;
  for (size_t m = 0; m < task.models.size(); ++m)
    for (const ReportRow& row : task.models[m].groups) {
      auto it = std::find_if(series.begin(), series.end(),
                             [&](const GainSeries& s) { return s.label == row.family; });
      if (it == series.end()) {
        series.push_back({row.family, std::vector<std::optional<double>>(task.models.size())});
        it = series.end() - 1;
      }
      it->by_model[m] = value(row);
    }
  std::erase_if(series, [](const GainSeries& s) {
    return std::none_of(s.by_model.begin(), s.by_model.end(),
                        [](const std::optional<double>& v) { return v.has_value(); });
  });
  const std::string stem = "gain-" + file_safe(task.task) + "-" + file_safe(what);
  if (series.empty()) {
    plots.notes.push_back(stem + ": not drawn, no model of task " + task.task + " has " + title);
    return;
  }
  std::ostringstream data;
  data << quoted("model");
  for (const GainSeries& s : series) data << " " << quoted(s.label);
  data << "\n";
  for (size_t m = 0; m < task.models.size(); ++m) {
    data << quoted(task.models[m].model);
    for (const GainSeries& s : series)
      data << " " << (s.by_model[m] ? number(*s.by_model[m]) : "?");
    data << "\n";
  }
  write_text(dir / (stem + ".dat"), data.str());
  script << "\nreset\nset termoption noenhanced\nset datafile missing '?'\n"
         << "set title " << quoted(task.task + " (" + task.headline_metric + "): " + title) << "\n"
         << "set xlabel 'model (by size)'\nset ylabel 'gain (points x100)'\n"
         << "set xzeroaxis linetype 0\nset key outside right\nset grid ytics\n"
         << svg_output(stem, 900, 560)
         << "set xrange [-0.5:" << number(static_cast<double>(task.models.size()) - 0.5) << "]\n"
         << "plot for [i=2:" << series.size() + 1 << "] '" << stem
         << ".dat' using 0:i:xtic(1) with linespoints linewidth 2 pointsize 1.2 "
            "title columnheader(i)\n"
         << png_replot(stem, 900, 560);
  plots.figures.push_back({stem, task.task + ": " + title + " against model size, per family"});
}

// A transfer table's task, or the tasks it pools.
std::string title_of(const TransferTable& table) {
  if (table.tasks.empty()) return table.task;
  std::string tasks;
  for (const std::string& task : table.tasks) tasks += (tasks.empty() ? "" : ", ") + task;
  return "pooled over " + tasks;
}

// A forest plot of the interaction D(largest) - D(smallest) per group of the task's transfer
// table (all, each family, seen and unseen), with its interval; false where no group has one.
bool add_forest_plot(const TransferTable& table, const fs::path& dir, std::ostringstream& script,
                     PlotSet& plots) {
  std::ostringstream data;
  data << quoted("group") << " " << quoted("interaction") << " " << quoted("low") << " "
       << quoted("high") << "\n";
  size_t rows = 0;
  std::string small, large;
  for (const TransferGroup& group : table.groups) {
    if (!group.result) continue;
    const Estimate& e = group.result->interaction;
    small = group.result->small_model;
    large = group.result->large_model;
    std::string label = group.group + " (" + std::to_string(group.languages.size()) +
                        (group.languages.size() == 1 ? " language" : " languages") +
                        (group.few_languages ? ", few" : "") + (e.ci ? "" : ", no interval") + ")";
    data << quoted(label) << " " << number(e.value) << " " << number(e.ci ? e.ci->low : e.value)
         << " " << number(e.ci ? e.ci->high : e.value) << "\n";
    ++rows;
  }
  if (rows == 0) return false;
  const std::string stem = "interaction-" + file_safe(table.task);
  write_text(dir / (stem + ".dat"), data.str());
  const int height = 140 + 30 * static_cast<int>(rows);
  script << "\nreset\nset termoption noenhanced\n"
         << "set title "
         << quoted(title_of(table) + ": (ML - EN)(" + large + ") - (ML - EN)(" + small + ")")
         << "\nset xlabel 'interaction (points x100), percentile interval'\n"
         << "set yrange [" << number(static_cast<double>(rows) - 0.5) << ":-0.5]\n"
         << "set ytics scale 0\nset grid xtics\nunset key\n"
         << "set arrow from 0, graph 0 to 0, graph 1 nohead dashtype 2\n"
         << svg_output(stem, 900, height) << "plot '" << stem
         << ".dat' using 2:0:3:4:ytic(1) skip 1 with xerrorbars pointtype 7 pointsize 1.2 "
            "linewidth 2\n"
         << png_replot(stem, 900, height);
  plots.figures.push_back({stem, title_of(table) + ": interaction of ML − EN between " + small +
                                     " and " + large + " per family, with intervals"});
  return true;
}

void add_heatmap(const TaskSection& task, const ModelSection& model, const fs::path& dir,
                 std::ostringstream& script, PlotSet& plots) {
  std::vector<std::string> regimes;
  for (const std::string& regime : intermediate_regimes())
    for (const ReportRow& row : model.languages)
      if (row.cell(regime)) {
        regimes.push_back(regime);
        break;
      }
  const std::string stem = "heatmap-" + file_safe(task.task) + "-" + file_safe(model.model);
  if (model.languages.empty()) {
    plots.notes.push_back(stem + ": not drawn, no language scores");
    return;
  }
  std::ostringstream data;
  data << quoted("language");
  for (const std::string& regime : regimes) data << " " << quoted(regime);
  data << "\n";
  for (const ReportRow& row : model.languages) {
    data << quoted(row.language + " (" + row.family + ")");
    for (const std::string& regime : regimes) {
      const RegimeCell* cell = row.cell(regime);
      data << " " << (cell ? number(cell->score.mean) : "NaN");
    }
    data << "\n";
  }
  write_text(dir / (stem + ".dat"), data.str());
  const int height = 160 + 22 * static_cast<int>(model.languages.size());
  const int width = 360 + 110 * static_cast<int>(regimes.size());
  // A missing cell (NaN) is left blank: NaN != NaN selects it.
  script << "\nreset\nset termoption noenhanced\n"
         << "set title "
         << quoted(task.task + ", " + model.model + ": mean zero-shot " + task.headline_metric +
                   " (x100) per language and regime")
         << "\nset palette defined (0 '#ffffcc', 1 '#fd8d3c', 2 '#bd0026')\n"
         << svg_output(stem, width, height)
         << "set yrange [*:*] reverse\nset xtics scale 0\nset ytics scale 0\nunset key\n"
         << "plot '" << stem << ".dat' matrix rowheaders columnheaders using 1:2:3 with image, '"
         << stem << ".dat' matrix rowheaders columnheaders using 1:2:($3 == $3 ? "
         << "sprintf('%.1f', $3) : '') with labels\n"
         << png_replot(stem, width, height);
  plots.figures.push_back(
      {stem, task.task + ", " + model.model +
                 ": zero-shot score per language (rows, by family) and regime"});
}

}  // namespace

PlotSet write_plot_files(const Report& report, const std::string& dir) {
  fs::create_directories(dir);
  PlotSet plots;
  std::ostringstream script;
  script << "# Written by stilts report: every figure of the report from the .dat files beside "
            "it.\n# Rerun with: gnuplot plots.gp (in this folder).\n";
  const std::string& baseline = report.options.baseline;
  for (const TaskSection& task : report.tasks) {
    for (const std::string& regime : intermediate_regimes()) {
      if (regime == baseline) continue;
      const bool present = std::any_of(task.models.begin(), task.models.end(),
                                       [&](const auto& m) { return m.seeds.count(regime) != 0; });
      if (!present) continue;
      add_gain_figure(
          task, regime, "gain of " + regime + " over " + baseline,
          [&](const ReportRow& row) -> std::optional<double> {
            const RegimeCell* cell = row.cell(regime);
            return cell ? cell->gain : std::nullopt;
          },
          dir, script, plots);
    }
    const bool both = std::any_of(task.models.begin(), task.models.end(), [](const auto& m) {
      return m.seeds.count("multilingual") && m.seeds.count("english");
    });
    // Where the task has a transfer table, the forest plot of the interaction replaces the
    // one-panel figure of multilingual - english with a line per family.
    const auto table = std::find_if(report.transfer.begin(), report.transfer.end(),
                                    [&](const TransferTable& t) { return t.task == task.task; });
    const bool forest =
        table != report.transfer.end() && add_forest_plot(*table, dir, script, plots);
    if (both && !forest)
      add_gain_figure(
          task, kMultilingualMinusEnglish, "multilingual minus english",
          [](const ReportRow& row) { return row.multilingual_minus_english; }, dir, script, plots);
    for (const ModelSection& model : task.models) add_heatmap(task, model, dir, script, plots);
  }
  if (report.pooled) add_forest_plot(*report.pooled, dir, script, plots);
  plots.script = (fs::path(dir) / "plots.gp").string();
  write_text(plots.script, script.str());
  return plots;
}

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path ? path : "");
  for (std::string folder; std::getline(folders, folder, ':');) {
    const fs::path candidate = fs::path(folder.empty() ? "." : folder) / "gnuplot";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  throw std::runtime_error(
      "gnuplot not found on PATH: the report's plots need it; install the Debian package "
      "gnuplot-nox (launch/install_deps.sh)");
}

void run_gnuplot(const std::string& gnuplot, const std::string& script) {
  const fs::path script_path = fs::absolute(script);
  const std::string folder = script_path.parent_path().string();
  const std::string name = script_path.filename().string();
  // fork and exec rather than system(): no shell, so no quoting of the paths; the child only
  // changes folder and execs (both async-signal-safe), as a forked multithreaded process must.
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot start " + gnuplot + " on " + script);
  if (pid == 0) {
    if (::chdir(folder.c_str()) == 0) {
      char* const argv[] = {const_cast<char*>(gnuplot.c_str()), const_cast<char*>(name.c_str()),
                            nullptr};
      ::execv(gnuplot.c_str(), argv);
    }
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(gnuplot + " failed on " + script_path.string() + " (exit status " +
                             std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
}

std::string plots_markdown(const PlotSet& plots, const std::string& relative_dir) {
  std::ostringstream md;
  md << "\n## Plots\n\nDrawn by gnuplot from `" << relative_dir
     << "/plots.gp` and the `.dat` files beside it (PNG and SVG each).\n\n";
  for (const Figure& f : plots.figures)
    md << "![" << f.caption << "](" << relative_dir << "/" << f.stem << ".svg)\n\n"
       << f.caption << " ([PNG](" << relative_dir << "/" << f.stem << ".png))\n\n";
  for (const std::string& note : plots.notes) md << "- " << note << "\n";
  return md.str();
}

}  // namespace stilts::experiments
