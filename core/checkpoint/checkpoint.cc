#include "core/checkpoint/checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "core/checkpoint/file_io.h"
#include "hdf5/objects.h"
#include "parallel/self_communicator.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kLayoutFile = "layout.json";
constexpr const char* kTrainerFile = "trainer.json";
constexpr const char* kConfigFile = "config.json";
constexpr const char* kLatestFile = "latest";
// The single-file layout before tensor-parallel shards: read, never written.
constexpr const char* kLegacyModelFile = "model.h5";
constexpr const char* kLegacyOptimizerFile = "optimizer.h5";
constexpr const char* kFormat = "stilts-checkpoint";
constexpr int64_t kVersion = 1;        // of the .h5 files
constexpr int64_t kLayoutVersion = 2;  // of the step directory (1: the single-file layout)

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

void require_host_f32(const Tensor& t, const std::string& where) {
  if (!t.defined() || t.dtype() != DType::f32 || t.device() != Device::cpu)
    throw std::invalid_argument(where + ": expected a host f32 tensor, got " +
                                (t.defined() ? t.describe() : std::string("an undefined one")));
}

std::vector<std::string> dataset_names(hid_t file, const std::string& path) {
  std::vector<std::string> names;
  hdf5::check(H5Literate(
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
  hdf5::Id space(H5Dget_space(dataset), H5Sclose, where + ": cannot read the shape");
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) throw hdf5::error(where + ": cannot read the shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0)
    throw hdf5::error(where + ": cannot read the shape");
  return Shape(dims.begin(), dims.end());
}

void write_int_array_attribute(hid_t object, const char* name, const std::vector<int64_t>& values,
                               const std::string& where) {
  const hsize_t n = values.size();
  hdf5::Id space(H5Screate_simple(1, &n, nullptr), H5Sclose, where + ": cannot create a dataspace");
  hdf5::Id attribute(H5Acreate2(object, name, H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                     H5Aclose, where + ": cannot create attribute " + name);
  // A scalar's shape is empty: the attribute exists with no elements to write.
  if (n > 0)
    hdf5::check(H5Awrite(attribute.get(), H5T_NATIVE_INT64, values.data()),
                where + ": cannot write attribute " + name);
}

std::vector<int64_t> read_int_array_attribute(hid_t object, const char* name,
                                              const std::string& where) {
  hdf5::Id attribute = hdf5::open_attribute(object, name, where, kFormat);
  hdf5::Id space(H5Aget_space(attribute.get()), H5Sclose, where + ": attribute " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (n < 0 || H5Sget_simple_extent_ndims(space.get()) != 1)
    throw std::runtime_error(where + ": attribute '" + name + "' is not a vector");
  std::vector<int64_t> values(static_cast<size_t>(n));
  if (n > 0)
    hdf5::check(H5Aread(attribute.get(), H5T_NATIVE_INT64, values.data()),
                where + ": attribute '" + name + "' is not an integer vector");
  return values;
}

// The dimension a split cuts (-1 when replicated): rows of a matrix or a vector, columns of a
// matrix.
int split_dim(const Shape& shape, SplitAxis axis, const std::string& where) {
  if (axis == SplitAxis::none) return -1;
  if (axis == SplitAxis::rows && (shape.size() == 1 || shape.size() == 2)) return 0;
  if (axis == SplitAxis::cols && shape.size() == 2) return 1;
  throw std::invalid_argument(where + ": a tensor of shape " + shape_string(shape) +
                              " cannot be split by " + split_axis_name(axis));
}

// The unsharded shape of which `local` is one of `size` equal slices.
Shape full_shape_of(const Shape& local, SplitAxis axis, int64_t size, const std::string& where) {
  Shape full = local;
  const int dim = split_dim(local, axis, where);
  if (dim >= 0) full[static_cast<size_t>(dim)] *= size;
  return full;
}

struct Dataset {
  std::string name;
  Tensor tensor;  // this shard's slice
  SplitAxis split = SplitAxis::none;
};

void write_h5(const std::string& path, const std::vector<Dataset>& datasets,
              const std::string& model_summary, TensorShard shard) {
  const hdf5::QuietErrors quiet;
  hdf5::Id file(H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                path + ": cannot create HDF5 file");
  hdf5::write_attribute(file.get(), "format", kFormat, path);
  hdf5::write_attribute(file.get(), "version", kVersion, path);
  hdf5::write_attribute(file.get(), "model", model_summary, path);
  for (const Dataset& d : datasets) {
    const std::string where = path + ": tensor " + d.name;
    require_host_f32(d.tensor, where);
    if (d.name.empty()) throw std::invalid_argument(path + ": a tensor has an empty name");
    const Shape full = full_shape_of(d.tensor.shape(), d.split, shard.size, where);
    const std::vector<hsize_t> dims(d.tensor.shape().begin(), d.tensor.shape().end());
    hdf5::Id space(d.tensor.rank() == 0 ? H5Screate(H5S_SCALAR)
                                        : H5Screate_simple(d.tensor.rank(), dims.data(), nullptr),
                   H5Sclose, where + ": cannot create a dataspace");
    hdf5::Id dataset(H5Dcreate2(file.get(), dataset_name(d.name).c_str(), H5T_IEEE_F32LE,
                                space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                     H5Dclose, where + ": cannot create the dataset");
    hdf5::check(
        H5Dwrite(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, d.tensor.raw()),
        where + ": write failed");
    hdf5::write_attribute(dataset.get(), "split_axis", split_axis_name(d.split), where);
    hdf5::write_attribute(dataset.get(), "tp_rank", int64_t{shard.rank}, where);
    hdf5::write_attribute(dataset.get(), "tp_size", int64_t{shard.size}, where);
    hdf5::write_attribute(dataset.get(), "offset", int64_t{shard_begin(full, d.split, shard)},
                          where);
    write_int_array_attribute(dataset.get(), "full_shape", full, where);
  }
  file.close(path + ": cannot finish writing");
  checkpoint_io::sync_path(path);
}

// An opened shard file whose format and version were checked.
struct ShardFile {
  std::string path;
  hdf5::Id file;
  std::string model;  // the shape summary it was written for
};

ShardFile open_shard_file(const std::string& path) {
  if (!fs::is_regular_file(path))
    throw std::runtime_error(path + ": no such file (incomplete checkpoint: a shard is missing)");
  hdf5::Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                path + ": not a readable HDF5 file (truncated or corrupt?)");
  const std::string format = hdf5::read_string_attribute(file.get(), "format", path, kFormat);
  const int64_t version = hdf5::read_int_attribute(file.get(), "version", path, kFormat);
  if (format != kFormat || version != kVersion)
    throw std::runtime_error(path + ": format '" + format + "' version " + std::to_string(version) +
                             ", expected '" + kFormat + "' version " + std::to_string(kVersion));
  std::string model = hdf5::read_string_attribute(file.get(), "model", path, kFormat);
  return {path, std::move(file), std::move(model)};
}

// What a dataset says about itself. The single-file layout's optimizer.h5 has no attributes:
// its tensors are whole (tp_size 1) and their split is whatever the loader asks for.
struct Stored {
  Shape local;
  Shape full;
  std::optional<SplitAxis> split;
  int64_t tp_rank = 0, tp_size = 1;
};

hdf5::Id open_dataset(const ShardFile& f, const std::string& name, const std::string& where) {
  return hdf5::Id(H5Dopen2(f.file.get(), dataset_name(name).c_str(), H5P_DEFAULT), H5Dclose,
                  where + ": cannot open");
}

bool has_dataset(const ShardFile& f, const std::string& name, const std::string& where) {
  const htri_t exists = H5Lexists(f.file.get(), dataset_name(name).c_str(), H5P_DEFAULT);
  if (exists < 0) throw hdf5::error(where + ": cannot look it up");
  return exists > 0;
}

Stored stored_info(const ShardFile& f, const std::string& name, const std::string& where) {
  hdf5::Id dataset = open_dataset(f, name, where);
  Stored s;
  s.local = dataset_shape(dataset.get(), where);
  hdf5::Id type(H5Dget_type(dataset.get()), H5Tclose, where + ": cannot read the type");
  if (H5Tget_class(type.get()) != H5T_FLOAT || H5Tget_size(type.get()) != 4)
    throw std::runtime_error(where + " is not stored as float32");
  const hid_t d = dataset.get();
  if (hdf5::has_attribute(d, "split_axis", where)) {
    try {
      s.split = split_axis_from_name(hdf5::read_string_attribute(d, "split_axis", where, kFormat));
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(where + ": " + e.what());
    }
  }
  if (hdf5::has_attribute(d, "tp_rank", where))
    s.tp_rank = hdf5::read_int_attribute(d, "tp_rank", where, kFormat);
  if (hdf5::has_attribute(d, "tp_size", where))
    s.tp_size = hdf5::read_int_attribute(d, "tp_size", where, kFormat);
  if (s.tp_size < 1 || s.tp_rank < 0 || s.tp_rank >= s.tp_size)
    throw std::runtime_error(where + ": tp_rank " + std::to_string(s.tp_rank) + " of tp_size " +
                             std::to_string(s.tp_size) + " is not a shard");
  try {
    s.full = hdf5::has_attribute(d, "full_shape", where)
                 ? read_int_array_attribute(d, "full_shape", where)
                 : full_shape_of(s.local, s.split.value_or(SplitAxis::none), s.tp_size, where);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return s;
}

// The saved shards [first, last) that overlap TP shard `want` of a tensor saved in `saved`
// shards (every split dimension divides by both sizes). A replicated tensor is read from
// `first`, which is the rank's own shard when the sizes agree.
struct SourceRange {
  int first, last;
};
SourceRange sources_of(int saved, TensorShard want) {
  const int64_t begin = int64_t{want.rank} * saved, end = int64_t{want.rank + 1} * saved;
  return {static_cast<int>(begin / want.size), static_cast<int>((end + want.size - 1) / want.size)};
}

// Part of the wanted slice held by saved shard `source`: `count` rows (or columns) from
// `source_begin` in that shard go to `local_begin` in the local tensor.
struct Piece {
  int source;
  int64_t source_begin, local_begin, count;
};

std::vector<Piece> pieces_of(const Shape& full, int dim, int saved, TensorShard want) {
  const SourceRange range = sources_of(saved, want);
  if (dim < 0) return {{range.first, 0, 0, 0}};
  const int64_t extent = full[static_cast<size_t>(dim)];
  const int64_t stored = extent / saved, local = extent / want.size;
  const int64_t begin = want.rank * local, end = begin + local;
  std::vector<Piece> pieces;
  for (int s = range.first; s < range.last; ++s) {
    const int64_t lo = std::max(begin, s * stored), hi = std::min(end, (s + 1) * stored);
    if (hi > lo) pieces.push_back({s, lo - s * stored, lo - begin, hi - lo});
  }
  return pieces;
}

// Reads `piece` of a dataset of shape `stored` into `local` (a whole read when dim < 0).
void read_piece(const ShardFile& f, const std::string& name, const Shape& stored, int dim,
                const Piece& piece, Tensor& local, const std::string& where) {
  hdf5::Id dataset = open_dataset(f, name, where);
  const std::string failed = where + ": read failed (truncated or corrupt file?)";
  if (dim < 0) {
    hdf5::check(
        H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, local.raw()),
        failed);
    return;
  }
  const auto d = static_cast<size_t>(dim);
  std::vector<hsize_t> file_start(stored.size(), 0), mem_start(stored.size(), 0);
  std::vector<hsize_t> count(stored.begin(), stored.end());
  const std::vector<hsize_t> mem_dims(local.shape().begin(), local.shape().end());
  file_start[d] = static_cast<hsize_t>(piece.source_begin);
  mem_start[d] = static_cast<hsize_t>(piece.local_begin);
  count[d] = static_cast<hsize_t>(piece.count);
  hdf5::Id file_space(H5Dget_space(dataset.get()), H5Sclose, failed);
  hdf5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, file_start.data(), nullptr,
                                  count.data(), nullptr),
              where + ": cannot select the slice");
  hdf5::Id mem_space(H5Screate_simple(static_cast<int>(mem_dims.size()), mem_dims.data(), nullptr),
                     H5Sclose, where + ": cannot create a dataspace");
  hdf5::check(H5Sselect_hyperslab(mem_space.get(), H5S_SELECT_SET, mem_start.data(), nullptr,
                                  count.data(), nullptr),
              where + ": cannot select the slice");
  hdf5::check(H5Dread(dataset.get(), H5T_NATIVE_FLOAT, mem_space.get(), file_space.get(),
                      H5P_DEFAULT, local.raw()),
              failed);
}

// Each file's datasets, by tensor name.
std::set<std::string> tensor_names(const ShardFile& f) {
  std::set<std::string> names;
  for (const std::string& d : dataset_names(f.file.get(), f.path)) names.insert(tensor_name(d));
  return names;
}

std::string shard_text(int64_t rank, int64_t size) {
  return "shard " + std::to_string(rank) + " of " + std::to_string(size);
}

constexpr const char* kModelMismatch = "the checkpoint is of another model shape";
constexpr const char* kOptimizerMismatch =
    "the checkpoint was written for another model shape or optimizer";

std::string step_dir_name(int64_t step) {
  if (step < 0 || step > 99'999'999)
    throw std::invalid_argument("checkpoint step " + std::to_string(step) +
                                " outside [0, 99999999]");
  char name[32];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

std::string two_digits(const char* prefix, int value) {
  char text[32];
  std::snprintf(text, sizeof text, "%s%02d", prefix, value);
  return text;
}

json layout_to_json(const CheckpointLayout& layout) {
  return {{"format", kFormat},
          {"version", kLayoutVersion},
          {"tp", layout.tp},
          {"dp", layout.dp},
          {"zero", layout.zero}};
}

// Every file a complete step directory holds; the first missing one is named.
void require_complete(const std::string& step_dir, const std::string& context) {
  const auto require = [&](const std::string& file) {
    if (!fs::is_regular_file(step_dir + "/" + file))
      throw std::runtime_error(step_dir + context + ": incomplete checkpoint, " + file +
                               " is missing");
  };
  require(kTrainerFile);
  require(kConfigFile);
  if (!fs::exists(step_dir + "/" + kLayoutFile) && !fs::exists(step_dir + "/" + kLegacyModelFile))
    require(kLayoutFile);
  const CheckpointLayout layout = read_checkpoint_layout(step_dir);
  for (const std::string& file : layout.model_files()) require(file);
  for (int t = 0; t < layout.tp; ++t)
    for (const std::string& file : layout.optimizer_files(t)) require(file);
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

CheckpointGroup CheckpointGroup::single() {
  return {single_rank_group(), 0, 1, false};
}

std::string model_shard_file(TensorShard shard) {
  return two_digits("model-tp", shard.rank) + two_digits("-of-", shard.size) + ".h5";
}

std::string optimizer_shard_file(int tp_rank, int dp_rank) {
  return two_digits("optimizer-tp", tp_rank) + two_digits("-dp", dp_rank) + ".h5";
}

std::vector<std::string> CheckpointLayout::model_files() const {
  if (legacy) return {kLegacyModelFile};
  std::vector<std::string> files;
  for (int t = 0; t < tp; ++t) files.push_back(model_shard_file({tp, t}));
  return files;
}

std::vector<std::string> CheckpointLayout::optimizer_files(int tp_rank) const {
  if (legacy) return {kLegacyOptimizerFile};
  std::vector<std::string> files;
  for (int d = 0; d < (zero ? dp : 1); ++d) files.push_back(optimizer_shard_file(tp_rank, d));
  return files;
}

void write_checkpoint_shard(const std::string& dir, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state, int dp_rank,
                            bool zero) {
  const TensorShard shard = params.shard();
  const std::string summary = params.config().shape_summary();
  if (dp_rank == 0) {
    std::vector<Dataset> model;
    for (size_t i = 0; i < params.size(); ++i)
      model.push_back({params.specs()[i].name, params.value(i), params.specs()[i].split});
    write_h5(dir + "/" + model_shard_file(shard), model, summary, shard);
  }
  if (dp_rank == 0 || zero) {
    std::vector<Dataset> optimizer;
    for (const NamedTensor& s : optimizer_state) optimizer.push_back({s.name, s.tensor, s.split});
    write_h5(dir + "/" + optimizer_shard_file(shard.rank, dp_rank), optimizer, summary, shard);
  }
}

void write_checkpoint_metadata(const std::string& dir, const CheckpointLayout& layout,
                               const json& trainer_state, const json& run_config) {
  checkpoint_io::write_text_atomically(dir + "/" + kLayoutFile,
                                       layout_to_json(layout).dump(2) + "\n");
  checkpoint_io::write_text_atomically(dir + "/" + kTrainerFile, trainer_state.dump(2) + "\n");
  checkpoint_io::write_text_atomically(dir + "/" + kConfigFile, run_config.dump(2) + "\n");
}

CheckpointLayout read_checkpoint_layout(const std::string& step_dir) {
  const std::string path = step_dir + "/" + kLayoutFile;
  if (!fs::exists(path)) {
    if (fs::is_regular_file(step_dir + "/" + kLegacyModelFile)) return {1, 1, false, true};
    throw std::runtime_error(path + ": no such file (not a complete checkpoint step directory)");
  }
  const json j = checkpoint_io::read_json_file(path);
  const auto positive = [&](const char* key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() < 1 ||
        it->get<int64_t>() > 1'000'000)
      throw std::runtime_error(path + ": '" + key + "' must be a positive integer");
    return static_cast<int>(it->get<int64_t>());
  };
  if (!j.is_object() || j.value("format", "") != kFormat ||
      j.value("version", int64_t{0}) != kLayoutVersion)
    throw std::runtime_error(path + ": not a '" + kFormat + "' layout of version " +
                             std::to_string(kLayoutVersion));
  const auto zero = j.find("zero");
  if (zero == j.end() || !zero->is_boolean())
    throw std::runtime_error(path + ": 'zero' must be true or false");
  return {positive("tp"), positive("dp"), zero->get<bool>(), false};
}

std::string save_checkpoint(const std::string& run_dir, int64_t step, const Parameters& params,
                            const std::vector<NamedTensor>& optimizer_state,
                            const json& trainer_state, const json& run_config,
                            const CheckpointGroup& group) {
  const std::string name = step_dir_name(step);
  const std::string step_dir = run_dir + "/" + name;
  Communicator& world = group.world;
  const bool root = world.rank() == 0;
  const std::string not_saved = step_dir + ": checkpoint not saved: ";

  // World rank 0 creates the staging directory and tells everyone its name (its process id).
  std::optional<checkpoint_io::StagingDir> staging;
  std::exception_ptr failure;
  Tensor created({2}, DType::i64);  // ok, pid
  if (root) {
    try {
      fs::create_directories(run_dir);
      staging.emplace(checkpoint_io::staging_path(step_dir, "tmp"));
      created.data<int64_t>()[0] = 1;
      created.data<int64_t>()[1] = ::getpid();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  world.broadcast(created, 0);
  if (created.data<int64_t>()[0] != 1) {
    if (failure) std::rethrow_exception(failure);
    throw std::runtime_error(not_saved + "world rank 0 could not create the staging directory");
  }
  const std::string staged = step_dir + ".tmp-" + std::to_string(created.data<int64_t>()[1]);

  // Every rank writes and fsyncs its files; a failure anywhere stops the commit everywhere.
  try {
    const TensorShard shard = params.shard();
    if (world.size() != shard.size * group.dp_size || group.dp_rank < 0 ||
        group.dp_rank >= group.dp_size)
      throw std::invalid_argument(not_saved + world.name() + " is not " +
                                  std::to_string(shard.size) + " tensor-parallel x " +
                                  std::to_string(group.dp_size) + " data-parallel ranks (dp_rank " +
                                  std::to_string(group.dp_rank) + ")");
    write_checkpoint_shard(staged, params, optimizer_state, group.dp_rank, group.zero);
    if (root)
      write_checkpoint_metadata(staged, {shard.size, group.dp_size, group.zero, false},
                                trainer_state, run_config);
  } catch (...) {
    failure = std::current_exception();
  }
  Tensor failed({world.size()}, DType::i32);
  failed.data<int32_t>()[world.rank()] = failure ? 1 : 0;
  world.all_reduce(failed);
  std::string failing;
  for (int r = 0; r < world.size(); ++r)
    if (failed.data<int32_t>()[r] != 0)
      failing += (failing.empty() ? "" : ", ") + std::to_string(r);
  if (!failing.empty()) {
    // World rank 0's staging directory goes as its StagingDir unwinds.
    if (failure) std::rethrow_exception(failure);
    throw std::runtime_error(not_saved + "world rank(s) " + failing +
                             " failed to write their files (see their errors)");
  }

  // World rank 0 moves the complete directory into place and only then updates `latest`.
  Tensor committed({1}, DType::i32);
  if (root) {
    try {
      staging->commit(step_dir);
      checkpoint_io::write_text_atomically(run_dir + "/" + kLatestFile, name + "\n");
      committed.data<int32_t>()[0] = 1;
    } catch (...) {
      failure = std::current_exception();
    }
  }
  world.broadcast(committed, 0);
  if (committed.data<int32_t>()[0] != 1) {
    if (failure) std::rethrow_exception(failure);
    throw std::runtime_error(not_saved + "world rank 0 could not move it into place");
  }
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
  for (const char* file : {kLayoutFile, kTrainerFile, kConfigFile, kLegacyModelFile})
    if (fs::exists(path + "/" + file)) {
      require_complete(path, "");
      return path;
    }
  throw std::runtime_error(path + ": neither a run directory (no '" + kLatestFile +
                           "' file) nor a step directory (no " + kLayoutFile + ")");
}

json read_checkpoint_run_config(const std::string& step_dir) {
  return checkpoint_io::read_json_file(step_dir + "/" + kConfigFile);
}

json read_trainer_state(const std::string& step_dir) {
  return checkpoint_io::read_json_file(step_dir + "/" + kTrainerFile);
}

void load_checkpoint_params(const std::string& step_dir, Parameters& params) {
  const hdf5::QuietErrors quiet;
  const CheckpointLayout layout = read_checkpoint_layout(step_dir);
  const std::vector<std::string> files = layout.model_files();
  const TensorShard want = params.shard();
  const SourceRange range = sources_of(layout.tp, want);
  const std::string expected_model = params.config().shape_summary();

  // Everything is checked before the first value is overwritten.
  std::map<int, ShardFile> open;
  std::set<std::string> wanted;
  for (const ParamSpec& spec : params.specs()) wanted.insert(spec.name);
  for (int s = range.first; s < range.last; ++s) {
    const ShardFile& f =
        open.emplace(s, open_shard_file(step_dir + "/" + files[static_cast<size_t>(s)]))
            .first->second;
    const std::string models = " (checkpoint: " + f.model + "; expected: " + expected_model + ")";
    for (const ParamSpec& spec : params.specs()) {
      const std::string where = f.path + ": tensor " + spec.name;
      if (!has_dataset(f, spec.name, where))
        throw std::runtime_error(where + " is missing: " + kModelMismatch + models);
      const Stored stored = stored_info(f, spec.name, where);
      if (stored.full != spec.shape)
        throw std::runtime_error(where + " has shape " + shape_string(stored.full) + ", expected " +
                                 shape_string(spec.shape) + ": " + kModelMismatch + models);
      if (stored.split && *stored.split != spec.split)
        throw std::runtime_error(where + " is split by " + split_axis_name(*stored.split) +
                                 ", expected " + split_axis_name(spec.split));
      if (stored.tp_size != layout.tp || stored.tp_rank != s)
        throw std::runtime_error(where + " is " + shard_text(stored.tp_rank, stored.tp_size) +
                                 ", expected " + shard_text(s, layout.tp) +
                                 " (a file of another checkpoint?)");
      const Shape local = shard_shape(spec.shape, spec.split, {layout.tp, s});
      if (stored.local != local)
        throw std::runtime_error(where + " is stored with shape " + shape_string(stored.local) +
                                 ", expected " + shape_string(local) + " for " +
                                 shard_text(s, layout.tp));
    }
    for (const std::string& name : tensor_names(f))
      if (!wanted.count(name))
        throw std::runtime_error(f.path + ": holds tensor " + name +
                                 ", which was not expected: " + kModelMismatch + models);
  }

  for (size_t i = 0; i < params.size(); ++i) {
    const ParamSpec& spec = params.specs()[i];
    const int dim = split_dim(spec.shape, spec.split, spec.name);
    for (const Piece& piece : pieces_of(spec.shape, dim, layout.tp, want)) {
      const ShardFile& f = open.at(piece.source);
      read_piece(f, spec.name, shard_shape(spec.shape, spec.split, {layout.tp, piece.source}), dim,
                 piece, params.value(i), f.path + ": tensor " + spec.name);
    }
  }
}

void load_optimizer_state(const std::string& step_dir, std::vector<NamedTensor>& state,
                          TensorShard want) {
  const hdf5::QuietErrors quiet;
  (void)shard_shape({}, SplitAxis::none, want);  // validates `want`
  const CheckpointLayout layout = read_checkpoint_layout(step_dir);
  const SourceRange range = sources_of(layout.tp, want);

  // Every file of the saved TP shards this rank overlaps, and which one holds each name.
  struct SavedShard {
    std::vector<ShardFile> files;
    std::map<std::string, size_t> holder;
    std::string where;  // the files, for messages
  };
  std::map<int, SavedShard> saved;
  for (int s = range.first; s < range.last; ++s) {
    SavedShard& shard = saved[s];
    const std::vector<std::string> names = layout.optimizer_files(s);
    for (const std::string& name : names)
      shard.files.push_back(open_shard_file(step_dir + "/" + name));
    shard.where = names.size() == 1
                      ? shard.files[0].path
                      : step_dir + "/" + optimizer_shard_file(s, 0) + " ... " + names.back() +
                            " (" + std::to_string(names.size()) + " files)";
    for (size_t k = 0; k < shard.files.size(); ++k)
      for (const std::string& name : tensor_names(shard.files[k])) {
        const auto [it, added] = shard.holder.emplace(name, k);
        if (!added)
          throw std::runtime_error(shard.files[k].path + ": holds optimizer state " + name +
                                   ", which " + shard.files[it->second].path + " holds too");
      }
  }

  // Everything is checked before the first tensor is overwritten.
  struct Plan {
    int dim;
    std::vector<Piece> pieces;
    std::vector<Shape> stored;  // each piece's saved shard shape
  };
  std::vector<Plan> plans;
  std::set<std::string> asked;
  for (const NamedTensor& t : state) {
    require_host_f32(t.tensor, step_dir + ": optimizer state " + t.name);
    if (!asked.insert(t.name).second)
      throw std::invalid_argument(step_dir + ": optimizer state " + t.name + " is asked for twice");
    const SourceRange sources =
        t.split == SplitAxis::none ? SourceRange{range.first, range.first + 1} : range;
    std::optional<Shape> full;
    for (int s = sources.first; s < sources.last; ++s) {
      const SavedShard& shard = saved.at(s);
      const auto it = shard.holder.find(t.name);
      const std::string models =
          shard.files.empty() ? "" : " (checkpoint: " + shard.files[0].model + ")";
      if (it == shard.holder.end())
        throw std::runtime_error(shard.where + ": optimizer state " + t.name +
                                 " is missing: " + kOptimizerMismatch + models);
      const ShardFile& f = shard.files[it->second];
      const std::string where = f.path + ": optimizer state " + t.name;
      const Stored stored = stored_info(f, t.name, where);
      if (stored.split && *stored.split != t.split)
        throw std::runtime_error(where + " is split by " + split_axis_name(*stored.split) +
                                 ", expected " + split_axis_name(t.split) + ": " +
                                 kOptimizerMismatch);
      if (stored.tp_size != layout.tp || stored.tp_rank != s)
        throw std::runtime_error(where + " is " + shard_text(stored.tp_rank, stored.tp_size) +
                                 ", expected " + shard_text(s, layout.tp) +
                                 " (a file of another checkpoint?)");
      if (full && stored.full != *full)
        throw std::runtime_error(where + " has shape " + shape_string(stored.full) +
                                 " in one shard file and " + shape_string(*full) + " in another");
      full = stored.full;
      Shape local;
      try {
        local = shard_shape(stored.full, t.split, {layout.tp, s});
      } catch (const std::invalid_argument& e) {
        throw std::runtime_error(where + ": " + e.what());
      }
      if (stored.local != local)
        throw std::runtime_error(where + " is stored with shape " + shape_string(stored.local) +
                                 ", expected " + shape_string(local) + " for " +
                                 shard_text(s, layout.tp));
    }
    Shape expected;
    const std::string where = saved.at(sources.first).where + ": optimizer state " + t.name;
    try {
      expected = shard_shape(*full, t.split, want);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(where + " has shape " + shape_string(*full) + ", which " +
                               shard_text(want.rank, want.size) + " cannot take: " + e.what());
    }
    if (expected != t.tensor.shape())
      throw std::runtime_error(
          where + " has shape " + shape_string(*full) +
          (want.size == 1
               ? ""
               : " (" + shard_text(want.rank, want.size) + ": " + shape_string(expected) + ")") +
          ", expected " + shape_string(t.tensor.shape()) + ": " + kOptimizerMismatch);
    Plan plan;
    plan.dim = split_dim(*full, t.split, where);
    plan.pieces = pieces_of(*full, plan.dim, layout.tp, want);
    for (const Piece& piece : plan.pieces)
      plan.stored.push_back(shard_shape(*full, t.split, {layout.tp, piece.source}));
    plans.push_back(std::move(plan));
  }

  for (size_t i = 0; i < state.size(); ++i) {
    const Plan& plan = plans[i];
    for (size_t k = 0; k < plan.pieces.size(); ++k) {
      const SavedShard& shard = saved.at(plan.pieces[k].source);
      const ShardFile& f = shard.files[shard.holder.at(state[i].name)];
      read_piece(f, state[i].name, plan.stored[k], plan.dim, plan.pieces[k], state[i].tensor,
                 f.path + ": optimizer state " + state[i].name);
    }
  }
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
