#include "core/checkpoint/checkpoint.h"

#include <hdf5.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "core/checkpoint/file_io.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kModelFile = "model.h5";
constexpr const char* kOptimizerFile = "optimizer.h5";
constexpr const char* kTrainerFile = "trainer.json";
constexpr const char* kConfigFile = "config.json";
constexpr const char* kLatestFile = "latest";
constexpr const char* kStepFiles[] = {kModelFile, kOptimizerFile, kTrainerFile, kConfigFile};
constexpr const char* kFormat = "stilts-checkpoint";
constexpr int64_t kVersion = 1;

// HDF5 prints its error stack to stderr by default; this module reports errors itself, with
// the file and tensor. The previous handler is restored for other HDF5 users.
class QuietHdf5Errors {
 public:
  QuietHdf5Errors() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietHdf5Errors(const QuietHdf5Errors&) = delete;
  QuietHdf5Errors& operator=(const QuietHdf5Errors&) = delete;
  ~QuietHdf5Errors() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

// `what`, plus the most specific entry of HDF5's error stack ("truncated file: eof = ...").
std::runtime_error hdf5_error(const std::string& what) {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* error, void* out) -> herr_t {
        if (n == 0 && error->desc) *static_cast<std::string*>(out) = error->desc;
        return 0;
      },
      &detail);
  return std::runtime_error(detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw hdf5_error(what);
}

class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
    if (id < 0) throw hdf5_error(what);
  }
  H5Id(H5Id&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  H5Id& operator=(H5Id&&) = delete;
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  // Closing a written file flushes it, so its failure is a failed write.
  void close(const std::string& what) { check(close_(std::exchange(id_, -1)), what); }

 private:
  hid_t id_;
  Closer close_;
};

// '/' separates HDF5 groups; escaping it (and the escape character) keeps every tensor one
// dataset of the root group under a name that reads back unchanged.
std::string dataset_name(const std::string& tensor) {
  std::string out;
  for (char c : tensor) out += c == '%' ? "%25" : c == '/' ? "%2F" : std::string(1, c);
  return out;
}

std::string tensor_name(const std::string& dataset) {
  std::string out;
  for (size_t i = 0; i < dataset.size(); ++i) {
    const std::string code = dataset.substr(i, 3);
    if (code == "%25" || code == "%2F") {
      out += code == "%25" ? '%' : '/';
      i += 2;
    } else {
      out += dataset[i];
    }
  }
  return out;
}

H5Id scalar_space(const std::string& where) {
  return H5Id(H5Screate(H5S_SCALAR), H5Sclose, where + ": cannot create a dataspace");
}

void write_string_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& where) {
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose, where + ": cannot create a string type");
  // Null-padded fixed length is what numpy and h5py use for byte strings.
  check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)), where);
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where);
  H5Id attribute(
      H5Acreate2(object, name, type.get(), scalar_space(where).get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, where + ": cannot create attribute " + name);
  check(H5Awrite(attribute.get(), type.get(), value.c_str()),
        where + ": cannot write attribute " + name);
}

void write_int_attribute(hid_t object, const char* name, int64_t value, const std::string& where) {
  H5Id attribute(
      H5Acreate2(object, name, H5T_STD_I64LE, scalar_space(where).get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, where + ": cannot create attribute " + name);
  check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, &value),
        where + ": cannot write attribute " + name);
}

H5Id open_attribute(hid_t object, const char* name, const std::string& where) {
  return H5Id(H5Aopen(object, name, H5P_DEFAULT), H5Aclose,
              where + ": no attribute '" + name + "' (not a " + kFormat + " file?)");
}

std::string read_string_attribute(hid_t object, const char* name, const std::string& where) {
  H5Id attribute = open_attribute(object, name, where);
  H5Id type(H5Aget_type(attribute.get()), H5Tclose, where);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) != 0)
    throw std::runtime_error(where + ": attribute '" + name + "' is not a fixed-length string");
  std::string value(H5Tget_size(type.get()), '\0');
  check(H5Aread(attribute.get(), type.get(), value.data()),
        where + ": cannot read attribute " + name);
  return value.substr(0, value.find('\0'));
}

int64_t read_int_attribute(hid_t object, const char* name, const std::string& where) {
  H5Id attribute = open_attribute(object, name, where);
  int64_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value),
        where + ": attribute '" + name + "' is not an integer");
  return value;
}

void require_host_f32(const Tensor& t, const std::string& where) {
  if (!t.defined() || t.dtype() != DType::f32 || t.device() != Device::cpu)
    throw std::invalid_argument(where + ": expected a host f32 tensor, got " +
                                (t.defined() ? t.describe() : std::string("an undefined one")));
}

struct Dataset {
  std::string name;
  Tensor tensor;
  std::optional<SplitAxis> split;  // parameters carry their tensor-parallel layout
};

void write_h5(const std::string& path, const std::vector<Dataset>& datasets,
              const std::string& model_summary) {
  const QuietHdf5Errors quiet;
  H5Id file(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
            path + ": cannot create HDF5 file");
  write_string_attribute(file.get(), "format", kFormat, path);
  write_int_attribute(file.get(), "version", kVersion, path);
  write_string_attribute(file.get(), "model", model_summary, path);
  for (const Dataset& d : datasets) {
    const std::string where = path + ": tensor " + d.name;
    require_host_f32(d.tensor, where);
    if (d.name.empty()) throw std::invalid_argument(path + ": a tensor has an empty name");
    const std::vector<hsize_t> dims(d.tensor.shape().begin(), d.tensor.shape().end());
    H5Id space(d.tensor.rank() == 0 ? H5Screate(H5S_SCALAR)
                                    : H5Screate_simple(d.tensor.rank(), dims.data(), nullptr),
               H5Sclose, where + ": cannot create a dataspace");
    H5Id dataset(H5Dcreate2(file.get(), dataset_name(d.name).c_str(), H5T_IEEE_F32LE, space.get(),
                            H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                 H5Dclose, where + ": cannot create the dataset");
    check(H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.tensor.raw()),
          where + ": write failed");
    if (d.split) {
      // Written whole by one rank; a tensor-parallel loader slices along split_axis.
      write_string_attribute(dataset.get(), "split_axis", split_axis_name(*d.split), where);
      write_int_attribute(dataset.get(), "tp_rank", 0, where);
      write_int_attribute(dataset.get(), "tp_size", 1, where);
      write_int_attribute(dataset.get(), "offset", 0, where);
    }
  }
  file.close(path + ": cannot finish writing");
  checkpoint_io::sync_path(path);
}

std::vector<std::string> dataset_names(hid_t file, const std::string& path) {
  std::vector<std::string> names;
  check(H5Literate(
            file, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr,
            [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
              static_cast<std::vector<std::string>*>(out)->push_back(name);
              return 0;
            },
            &names),
        path + ": cannot list the datasets");
  return names;
}

Shape dataset_shape(hid_t dataset, const std::string& where) {
  H5Id space(H5Dget_space(dataset), H5Sclose, where + ": cannot read the shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw hdf5_error(where + ": cannot read the shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    throw hdf5_error(where + ": cannot read the shape");
  return Shape(dims.begin(), dims.end());
}

// What a file holds and what to say when it does not match the caller's tensors.
struct Contents {
  const char* item;      // "tensor", "optimizer state"
  const char* mismatch;  // why the shapes or names would differ
};
constexpr Contents kModelContents{"tensor", "the checkpoint is of another model shape"};
constexpr Contents kOptimizerContents{
    "optimizer state", "the checkpoint was written for another model shape or optimizer"};

// Fills `targets` from the datasets of the same names; the file must hold exactly these, with
// the same shapes, as f32. Everything is checked before the first tensor is overwritten.
void read_h5(const std::string& path, const std::vector<NamedTensor>& targets,
             const Contents& contents, const std::string& expected_model) {
  const QuietHdf5Errors quiet;
  if (!fs::is_regular_file(path)) throw std::runtime_error(path + ": no such file");
  H5Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
            path + ": not a readable HDF5 file (truncated or corrupt?)");
  const std::string format = read_string_attribute(file.get(), "format", path);
  const int64_t version = read_int_attribute(file.get(), "version", path);
  if (format != kFormat || version != kVersion)
    throw std::runtime_error(path + ": format '" + format + "' version " + std::to_string(version) +
                             ", expected '" + kFormat + "' version " + std::to_string(kVersion));
  const std::string models = " (checkpoint: " + read_string_attribute(file.get(), "model", path) +
                             (expected_model.empty() ? "" : "; expected: " + expected_model) + ")";

  std::set<std::string> wanted;
  std::vector<H5Id> datasets;
  for (const NamedTensor& t : targets) {
    const std::string where = path + ": " + contents.item + " " + t.name;
    require_host_f32(t.tensor, where);
    if (!wanted.insert(t.name).second) throw std::invalid_argument(where + " is asked for twice");
    const htri_t exists = H5Lexists(file.get(), dataset_name(t.name).c_str(), H5P_DEFAULT);
    if (exists < 0) throw hdf5_error(where + ": cannot look it up");
    if (exists == 0) throw std::runtime_error(where + " is missing: " + contents.mismatch + models);
    H5Id dataset(H5Dopen2(file.get(), dataset_name(t.name).c_str(), H5P_DEFAULT), H5Dclose,
                 where + ": cannot open");
    const Shape stored = dataset_shape(dataset.get(), where);
    if (stored != t.tensor.shape())
      throw std::runtime_error(where + " has shape " + shape_string(stored) + ", expected " +
                               shape_string(t.tensor.shape()) + ": " + contents.mismatch + models);
    H5Id type(H5Dget_type(dataset.get()), H5Tclose, where + ": cannot read the type");
    if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4)
      throw std::runtime_error(where + " is not stored as float32");
    datasets.push_back(std::move(dataset));
  }
  for (const std::string& name : dataset_names(file.get(), path))
    if (!wanted.count(tensor_name(name)))
      throw std::runtime_error(path + ": holds " + contents.item + " " + tensor_name(name) +
                               ", which was not expected: " + contents.mismatch + models);
  for (size_t i = 0; i < targets.size(); ++i)
    check(H5Dread(datasets[i].get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  targets[i].tensor.raw()),
          path + ": " + contents.item + " " + targets[i].name +
              ": read failed (truncated or corrupt file?)");
}

std::string step_dir_name(int64_t step) {
  if (step < 0 || step > 99'999'999)
    throw std::invalid_argument("checkpoint step " + std::to_string(step) +
                                " outside [0, 99999999]");
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

void require_complete(const std::string& step_dir, const std::string& context) {
  for (const char* file : kStepFiles)
    if (!fs::is_regular_file(step_dir + "/" + file))
      throw std::runtime_error(step_dir + context + ": incomplete checkpoint, " + file +
                               " is missing");
}

// The single list of ModelConfig fields, for both directions of the JSON conversion.
template <class Config, class Visit>
void for_each_field(Config& c, Visit&& visit) {
  visit("name", c.name);
  visit("vocab_size", c.vocab_size);
  visit("d_model", c.d_model);
  visit("d_kv", c.d_kv);
  visit("d_ff", c.d_ff);
  visit("num_heads", c.num_heads);
  visit("num_layers", c.num_layers);
  visit("num_decoder_layers", c.num_decoder_layers);
  visit("relative_attention_num_buckets", c.relative_attention_num_buckets);
  visit("relative_attention_max_distance", c.relative_attention_max_distance);
  visit("layer_norm_epsilon", c.layer_norm_epsilon);
  visit("dropout_rate", c.dropout_rate);
  visit("tie_word_embeddings", c.tie_word_embeddings);
  visit("pad_token_id", c.pad_token_id);
  visit("eos_token_id", c.eos_token_id);
  visit("decoder_start_token_id", c.decoder_start_token_id);
}

}  // namespace

std::string save_checkpoint(const std::string& run_dir, int64_t step, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state,
                            const json& trainer_state, const json& run_config) {
  const std::string name = step_dir_name(step);
  const std::string step_dir = run_dir + "/" + name;
  std::vector<Dataset> model, optimizer;
  for (size_t i = 0; i < params.size(); ++i)
    model.push_back({params.specs()[i].name, params.value(i), params.specs()[i].split});
  for (const NamedTensor& s : optimizer_state) optimizer.push_back({s.name, s.tensor, {}});
  const std::string summary = params.config().shape_summary();

  fs::create_directories(run_dir);
  checkpoint_io::StagingDir staging(checkpoint_io::staging_path(step_dir, "tmp"));
  write_h5(staging.file(kModelFile), model, summary);
  write_h5(staging.file(kOptimizerFile), optimizer, summary);
  checkpoint_io::write_text_atomically(staging.file(kTrainerFile), trainer_state.dump(2) + "\n");
  checkpoint_io::write_text_atomically(staging.file(kConfigFile), run_config.dump(2) + "\n");
  staging.commit(step_dir);
  checkpoint_io::write_text_atomically(run_dir + "/" + kLatestFile, name + "\n");
  return step_dir;
}

std::string resolve_checkpoint(const std::string& path) {
  if (!fs::is_directory(path)) throw std::runtime_error(path + ": no such checkpoint directory");
  const std::string latest = path + "/" + kLatestFile;
  if (fs::exists(latest)) {
    std::string name = checkpoint_io::read_text_file(latest);
    name.erase(name.find_last_not_of(" \t\r\n") + 1);
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos)
      throw std::runtime_error(latest + ": holds '" + name + "', not a step directory name");
    const std::string step_dir = path + "/" + name;
    require_complete(step_dir, " (named by " + latest + ")");
    return step_dir;
  }
  for (const char* file : kStepFiles)
    if (fs::exists(path + "/" + file)) {
      require_complete(path, "");
      return path;
    }
  throw std::runtime_error(path + ": neither a run directory (no '" + kLatestFile +
                           "' file) nor a step directory (no " + kModelFile + ")");
}

json read_checkpoint_run_config(const std::string& step_dir) {
  return checkpoint_io::read_json_file(step_dir + "/" + kConfigFile);
}

json read_trainer_state(const std::string& step_dir) {
  return checkpoint_io::read_json_file(step_dir + "/" + kTrainerFile);
}

void load_checkpoint_params(const std::string& step_dir, Parameters& params) {
  std::vector<NamedTensor> targets;
  for (size_t i = 0; i < params.size(); ++i)
    targets.push_back({params.specs()[i].name, params.value(i)});
  read_h5(step_dir + "/" + kModelFile, targets, kModelContents, params.config().shape_summary());
}

void load_optimizer_state(const std::string& step_dir, std::vector<NamedTensor>& state) {
  read_h5(step_dir + "/" + kOptimizerFile, state, kOptimizerContents, "");
}

json model_config_to_json(const ModelConfig& config) {
  json j = json::object();
  for_each_field(config, [&](const char* key, const auto& value) { j[key] = value; });
  return j;
}

ModelConfig model_config_from_json(const json& j, const std::string& source) {
  if (!j.is_object()) throw std::invalid_argument(source + ": model config is not a JSON object");
  ModelConfig config;
  for_each_field(config, [&](const char* key, auto& value) {
    using T = std::decay_t<decltype(value)>;
    const auto it = j.find(key);
    if (it == j.end())
      throw std::invalid_argument(source + ": model config has no key '" + key + "'");
    bool valid;
    if constexpr (std::is_same_v<T, std::string>)
      valid = it->is_string();
    else if constexpr (std::is_same_v<T, bool>)
      valid = it->is_boolean();
    else if constexpr (std::is_integral_v<T>)
      valid = it->is_number_unsigned()
                  ? std::in_range<T>(it->template get<uint64_t>())
                  : it->is_number_integer() && std::in_range<T>(it->template get<int64_t>());
    else
      valid = it->is_number();
    if (!valid)
      throw std::invalid_argument(source + ": model config key '" + key + "' has value " +
                                  it->dump() + " of the wrong type or range");
    value = it->template get<T>();
  });
  try {
    config.validate();
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(source + ": " + e.what());
  }
  return config;
}

}  // namespace stilts
