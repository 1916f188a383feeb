// The plots of `stilts report`, drawn by gnuplot: the data files and one gnuplot script under
// OUT/plots/, then gnuplot run on it for a PNG and an SVG of each figure.
//
// gnuplot rather than matplotlib: Debian's gnuplot-nox is one package with the cairo PNG and the
// SVG terminals and no X, Qt or Python stack, so a bare build machine or container gains a few
// megabytes, and the script it runs is plain text the report leaves beside the data to edit.
#pragma once

#include <string>
#include <vector>

#include "experiments/report.h"

namespace stilts::experiments {

struct Figure {
  std::string stem;     // plots/<stem>.png|svg|dat
  std::string caption;  // a sentence for the Markdown report
};

struct PlotSet {
  std::string script;              // the gnuplot script's path
  std::vector<Figure> figures;     // in the script's order
  std::vector<std::string> notes;  // figures not drawn, and why
};

// Writes <dir>/<stem>.dat for each figure and <dir>/plots.gp, which draws them all:
// (a) per task and non-baseline regime, the gain over the baseline against model size (models by
// size on the x axis, one line per family and one for all languages), and per task one more
// with multilingual - english where both regimes exist (gain-<task>-<regime>, and
// gain-<task>-multilingual-english); (b) per task and model, a language x regime heat map of the
// mean zero-shot score (heatmap-<task>-<model>). A figure with no value (no baseline runs) is
// left out with a note.
PlotSet write_plot_files(const Report& report, const std::string& dir);

// The gnuplot on PATH; throws std::runtime_error naming the Debian package when there is none.
std::string find_gnuplot();

// Runs gnuplot on the script in the script's folder; throws std::runtime_error naming the script
// when it fails.
void run_gnuplot(const std::string& gnuplot, const std::string& script);

// The report's "Plots" section: each figure's caption and links to its SVG and PNG, relative to
// the report (figures under `relative_dir`), and the notes.
std::string plots_markdown(const PlotSet& plots, const std::string& relative_dir);

}  // namespace stilts::experiments
