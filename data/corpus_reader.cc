#include "data/corpus_reader.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <limits>
#include <stdexcept>
#include <type_traits>

#include "data/corpus_hdf5.h"

namespace stilts::data {
namespace {

namespace h5 = corpus_hdf5;

// HDF5's documentation advises a prime number of hash slots, about 100 per chunk the cache can
// hold (kCorpusReaderCacheBytes / kCorpusChunkBytes = 256): 8 bytes each, 200 KiB per dataset.
constexpr size_t kCacheSlots = 25601;

// HDF5's own error for a missing object would not say which file or that it is not a corpus.
void require_link(hid_t parent, const char* name, const std::string& where) {
  const htri_t exists = H5Lexists(parent, name, H5P_DEFAULT);
  if (exists < 0) throw h5::error(where + ": cannot look it up");
  if (exists == 0) throw std::runtime_error(where + " is missing (not a corpus file?)");
}

h5::Id open_dataset(hid_t group, const char* name, hid_t dapl, const std::string& where) {
  require_link(group, name, where);
  return h5::Id(H5Dopen2(group, name, dapl), H5Dclose, where + ": cannot open the dataset");
}

// The length of a 1-D integer dataset whose elements have `element_size` bytes.
hsize_t checked_length(hid_t dataset, size_t element_size, const std::string& where) {
  h5::Id type(H5Dget_type(dataset), H5Tclose, where + ": cannot read the type");
  if (H5Tget_class(type.get()) != H5T_INTEGER || H5Tget_size(type.get()) != element_size)
    throw std::runtime_error(where + " is not stored as " + std::to_string(element_size * 8) +
                             "-bit integers");
  h5::Id space(H5Dget_space(dataset), H5Sclose, where + ": cannot read the shape");
  if (H5Sget_simple_extent_ndims(space.get()) != 1)
    throw std::runtime_error(where + " is not one-dimensional");
  hsize_t length = 0;
  if (H5Sget_simple_extent_dims(space.get(), &length, nullptr) < 0)
    throw h5::error(where + ": cannot read the shape");
  return length;
}

// One column: its offsets in memory, its values read on demand.
class ColumnReader {
 public:
  ColumnReader(hid_t file, const CorpusColumn& column, size_t size, const std::string& path)
      : group_(open_group(file, column.group, path)),
        offsets_(read_offsets(group_.get(), column, size, path)),
        where_(path + ": " + h5::column_path(column, column.values)),
        values_(open_values(group_.get(), column, offsets_.back(), where_)),
        memory_type_(h5::memory_type(column)) {}

  size_t length(size_t i) const { return static_cast<size_t>(offsets_[i + 1] - offsets_[i]); }

  // Example i's values into `out`, which holds length(i) elements.
  void read(size_t i, void* out) const {
    const hsize_t count = length(i);
    if (count == 0) return;
    const h5::Selection s =
        h5::select(values_.get(), static_cast<hsize_t>(offsets_[i]), count, where_);
    h5::check(H5Dread(values_.get(), memory_type_, s.memory.get(), s.file.get(), H5P_DEFAULT, out),
              where_ + ": cannot read example " + std::to_string(i) + " (corrupt file?)");
  }

 private:
  static h5::Id open_group(hid_t file, const char* name, const std::string& path) {
    const std::string where = path + ": group '" + name + "'";
    require_link(file, name, where);
    return h5::Id(H5Gopen2(file, name, H5P_DEFAULT), H5Gclose, where + ": cannot open it");
  }

  static std::vector<int64_t> read_offsets(hid_t group, const CorpusColumn& column, size_t size,
                                           const std::string& path) {
    const std::string where = path + ": " + h5::column_path(column, kCorpusOffsets);
    const h5::Id dataset = open_dataset(group, kCorpusOffsets, H5P_DEFAULT, where);
    const hsize_t length = checked_length(dataset.get(), sizeof(int64_t), where);
    if (length != size + 1)
      throw std::runtime_error(where + " holds " + std::to_string(length) +
                               " offsets; num_examples + 1 = " + std::to_string(size + 1) +
                               " were expected");
    std::vector<int64_t> offsets(length);
    h5::check(
        H5Dread(dataset.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, offsets.data()),
        where + ": read failed (corrupt file?)");
    if (offsets[0] != 0)
      throw std::runtime_error(where + " starts at " + std::to_string(offsets[0]) + ", not at 0");
    const auto down = std::adjacent_find(offsets.begin(), offsets.end(), std::greater<>());
    if (down != offsets.end()) {
      const auto k = std::to_string(down - offsets.begin());
      throw std::runtime_error(where + " decreases: offset " + k + " is " +
                               std::to_string(down[0]) + ", the next one " +
                               std::to_string(down[1]));
    }
    return offsets;
  }

  static h5::Id open_values(hid_t group, const CorpusColumn& column, int64_t length,
                            const std::string& where) {
    // A cache that holds the whole dataset when it is small, so that random access costs one
    // decompression per chunk; bounded for large corpora.
    const size_t bytes = static_cast<size_t>(length) * h5::element_size(column);
    const size_t chunks = (bytes + kCorpusChunkBytes - 1) / kCorpusChunkBytes;
    const size_t cache = std::min(chunks * kCorpusChunkBytes, kCorpusReaderCacheBytes);
    h5::Id dapl(H5Pcreate(H5P_DATASET_ACCESS), H5Pclose, where + ": cannot create properties");
    h5::check(H5Pset_chunk_cache(dapl.get(), kCacheSlots, cache, H5D_CHUNK_CACHE_W0_DEFAULT),
              where + ": cannot size the chunk cache");
    h5::Id values = open_dataset(group, column.values, dapl.get(), where);
    const hsize_t stored = checked_length(values.get(), h5::element_size(column), where);
    if (stored != static_cast<hsize_t>(length))
      throw std::runtime_error(where + " holds " + std::to_string(stored) +
                               " elements, but its offsets end at " + std::to_string(length));
    return values;
  }

  h5::Id group_;
  std::vector<int64_t> offsets_;
  std::string where_;
  h5::Id values_;
  hid_t memory_type_;
};

CorpusAttributes read_attributes(hid_t file, const std::string& path) {
  const std::string format = h5::read_string_attribute(file, "format", path, kCorpusFormat);
  const int64_t version = h5::read_int_attribute(file, "version", path, kCorpusFormat);
  if (format != kCorpusFormat || version != kCorpusVersion)
    throw std::runtime_error(path + ": format '" + format + "' version " + std::to_string(version) +
                             ", expected '" + kCorpusFormat + "' version " +
                             std::to_string(kCorpusVersion));
  CorpusAttributes attributes;
  for_each_corpus_attribute(attributes, [&](const char* name, auto& value) {
    using T = std::decay_t<decltype(value)>;
    if constexpr (std::is_same_v<T, std::string>) {
      value = h5::read_string_attribute(file, name, path, kCorpusFormat);
    } else {
      const int64_t stored = h5::read_int_attribute(file, name, path, kCorpusFormat);
      if (stored < std::numeric_limits<T>::min() || stored > std::numeric_limits<T>::max())
        throw std::runtime_error(path + ": attribute '" + name + "' = " + std::to_string(stored) +
                                 " does not fit its type");
      value = static_cast<T>(stored);
    }
  });
  try {
    attributes.validate(path);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
  return attributes;
}

size_t read_size(hid_t file, const std::string& path) {
  const int64_t size = h5::read_int_attribute(file, "num_examples", path, kCorpusFormat);
  if (size < 0)
    throw std::runtime_error(path + ": num_examples is negative (" + std::to_string(size) + ")");
  return static_cast<size_t>(size);
}

h5::Id open_file(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw std::runtime_error(path + ": no such corpus file");
  return h5::Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
                path + ": not a readable HDF5 file (truncated or corrupt?)");
}

}  // namespace

struct CorpusReader::Impl {
  explicit Impl(const std::string& path)
      : path(path),
        file(open_file(path)),
        attributes(read_attributes(file.get(), path)),
        size(read_size(file.get(), path)),
        inputs(file.get(), kCorpusInputs, size, path),
        targets(file.get(), kCorpusTargets, size, path),
        ids(file.get(), kCorpusIds, size, path),
        gold(file.get(), kCorpusGold, size, path) {}

  const std::string path;
  h5::Id file;
  const CorpusAttributes attributes;
  const size_t size;
  ColumnReader inputs, targets, ids, gold;

  void require_index(size_t i) const {
    if (i >= size)
      throw std::out_of_range(path + ": example " + std::to_string(i) + " asked for, the corpus " +
                              "holds " + std::to_string(size));
  }

  std::vector<int32_t> tokens(const ColumnReader& column, const char* side, size_t i) const {
    require_index(i);
    std::vector<int32_t> out(column.length(i));
    const h5::QuietErrors quiet;
    column.read(i, out.data());
    const size_t k = find_token_outside_vocab(out, attributes.vocab_size);
    if (k < out.size())
      throw std::runtime_error(path + ": example " + std::to_string(i) + " ('" + text(ids, i) +
                               "'): " + side + " token " + std::to_string(k) + " is " +
                               std::to_string(out[k]) + ", outside the vocabulary [0, " +
                               std::to_string(attributes.vocab_size) + ") (corrupt file?)");
    return out;
  }

  std::string text(const ColumnReader& column, size_t i) const {
    require_index(i);
    std::string out(column.length(i), '\0');
    const h5::QuietErrors quiet;
    column.read(i, out.data());
    return out;
  }
};

CorpusReader::CorpusReader(const std::string& path) {
  const h5::QuietErrors quiet;
  impl_ = std::make_unique<Impl>(path);
}

CorpusReader::~CorpusReader() = default;
CorpusReader::CorpusReader(CorpusReader&&) noexcept = default;
CorpusReader& CorpusReader::operator=(CorpusReader&&) noexcept = default;

const std::string& CorpusReader::path() const {
  return impl_->path;
}
const CorpusAttributes& CorpusReader::attributes() const {
  return impl_->attributes;
}
size_t CorpusReader::size() const {
  return impl_->size;
}

std::vector<int32_t> CorpusReader::input(size_t i) const {
  return impl_->tokens(impl_->inputs, "input", i);
}
std::vector<int32_t> CorpusReader::target(size_t i) const {
  return impl_->tokens(impl_->targets, "target", i);
}
std::string CorpusReader::id(size_t i) const {
  return impl_->text(impl_->ids, i);
}
std::string CorpusReader::gold(size_t i) const {
  return impl_->text(impl_->gold, i);
}

size_t CorpusReader::input_length(size_t i) const {
  impl_->require_index(i);
  return impl_->inputs.length(i);
}
size_t CorpusReader::target_length(size_t i) const {
  impl_->require_index(i);
  return impl_->targets.length(i);
}

void CorpusReader::check_compatible(int64_t vocab_size, std::string_view tokenizer_checksum) const {
  const CorpusAttributes& a = impl_->attributes;
  if (a.vocab_size == vocab_size && a.tokenizer_checksum == tokenizer_checksum) return;
  throw std::runtime_error(
      "corpus " + impl_->path + " was tokenized with vocab_size " + std::to_string(a.vocab_size) +
      " and tokenizer checksum '" + a.tokenizer_checksum + "', the model expects vocab_size " +
      std::to_string(vocab_size) + " and tokenizer checksum '" + std::string(tokenizer_checksum) +
      "'; prepare the corpus again " + "with the model's tokenizer");
}

}  // namespace stilts::data
