// The report as one HTML page to browse offline, alone: the Markdown report rendered by
// cmark-gfm (CommonMark with GitHub's table extension; Debian's libcmark-gfm-dev and
// libcmark-gfm-extensions-dev) and the gnuplot figures inlined as SVG.
//
// The page references nothing outside itself: no script, font, stylesheet or image file, so it
// can be mailed or archived as it is. Its short stylesheet is embedded.
#pragma once

#include <string>

#include "experiments/report_plots.h"

namespace stilts::experiments {

// `markdown` (report.md without its plots section, as report_markdown writes it) as HTML, then a
// "Plots" section with each figure of `plots` (its SVG beside plots.script) inlined with its
// caption, and the plots' notes. On top of the rendering:
// - a table of contents linking the level-2 and level-3 headings;
// - a section "## Checks" (list items that start with PASS or FAIL, then a number and its
//   interval) is moved before the table of contents, PASS marked green and FAIL red;
// - each table scrolls on its own, with a sticky header row and zebra rows;
// - raw HTML in the Markdown is shown as text (run ids and notes are folder names and free
//   text, never markup), and a link or image to anything but an anchor of the page becomes its
//   text followed by its target in parentheses.
// Throws std::runtime_error naming the file for a figure whose SVG cannot be read or holds no
// <svg> element.
std::string report_html(const std::string& markdown, const PlotSet& plots);

}  // namespace stilts::experiments
