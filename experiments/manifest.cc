#include "experiments/manifest.h"

#include <ctime>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "core/checkpoint/file_io.h"

namespace stilts::experiments {
namespace {

constexpr const char* kFormat = "stilts-experiment-manifest";
constexpr int kVersion = 1;

std::string joined_args(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& arg : args) out += (out.empty() ? "" : " ") + arg;
  return out;
}

}  // namespace

std::string iso8601_utc(Manifest::Time when) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(when);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string Manifest::path_in(const std::string& runs_dir) {
  return (std::filesystem::path(runs_dir) / "manifest.json").string();
}

Manifest Manifest::load(const std::string& path, const std::string& grid_name) {
  Manifest m;
  m.path_ = path;
  m.grid_ = grid_name;
  std::ifstream file(path);
  if (!file) {
    if (std::filesystem::exists(path)) throw std::runtime_error(path + ": cannot read");
    return m;
  }
  std::string field = "(the file)";
  try {
    const nlohmann::json j = nlohmann::json::parse(file);
    field = "format";
    if (j.at("format") != kFormat) throw std::runtime_error("expected " + std::string(kFormat));
    field = "version";
    if (j.at("version") != kVersion)
      throw std::runtime_error("expected " + std::to_string(kVersion));
    field = "grid";
    if (j.at("grid").get<std::string>() != grid_name)
      throw std::runtime_error("records grid '" + j.at("grid").get<std::string>() + "', not '" +
                               grid_name + "'; give the grid its own runs_dir");
    for (const auto& [id, record] : j.at("stages").items()) {
      field = "stages." + id;
      StageRecord r;
      r.kind = record.at("kind").get<std::string>();
      r.args = record.at("args").get<std::vector<std::string>>();
      r.output = record.at("output").get<std::string>();
      r.started = record.at("started").get<std::string>();
      if (!record.at("finished").is_null()) r.finished = record.at("finished").get<std::string>();
      m.stages_[id] = std::move(r);
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + field + ": " + e.what());
  }
  return m;
}

void Manifest::save() const {
  nlohmann::json stages = nlohmann::json::object();
  for (const auto& [id, r] : stages_)
    stages[id] = {{"kind", r.kind},
                  {"args", r.args},
                  {"output", r.output},
                  {"started", r.started},
                  {"finished", r.finished.empty() ? nlohmann::json() : nlohmann::json(r.finished)}};
  const nlohmann::json j = {
      {"format", kFormat}, {"version", kVersion}, {"grid", grid_}, {"stages", stages}};
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path());
  checkpoint_io::write_text_atomically(path_, j.dump(2) + "\n");
}

bool Manifest::finished(const std::string& stage_id) const {
  const auto it = stages_.find(stage_id);
  return it != stages_.end() && !it->second.finished.empty();
}

bool Manifest::check_plan(const Plan& plan, bool force) {
  bool took = false;
  for (const Stage& stage : plan.stages) {
    const auto it = stages_.find(stage.id);
    if (it == stages_.end() || it->second.args == stage.args) continue;
    if (!force)
      throw std::runtime_error(
          path_ + ": stage " + stage.id + " " +
          (it->second.finished.empty() ? "started" : "finished") +
          " with other arguments than the grid now gives it (recorded: stilts " +
          joined_args(it->second.args) + "; now: stilts " + joined_args(stage.args) +
          "); restore the grid, give it another runs_dir, or force to keep the outputs as they "
          "are");
    it->second.args = stage.args;
    took = true;
  }
  return took;
}

void Manifest::mark_started(const Stage& stage, Time when) {
  stages_[stage.id] = {stage_kind_name(stage.kind), stage.args, stage.output, iso8601_utc(when),
                       ""};
}

void Manifest::mark_finished(const Stage& stage, Time when) {
  StageRecord& r = stages_[stage.id];
  if (r.started.empty())
    r = {stage_kind_name(stage.kind), stage.args, stage.output, iso8601_utc(when), ""};
  r.finished = iso8601_utc(when);
}

std::vector<const Stage*> next_stages(const Plan& plan, const Manifest& manifest) {
  std::vector<const Stage*> left;
  for (const Stage& stage : plan.stages)
    if (!manifest.finished(stage.id)) left.push_back(&stage);
  return left;
}

}  // namespace stilts::experiments
