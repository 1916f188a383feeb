#include "data/corpus_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "data/corpus_hdf5.h"

namespace stilts::data {
namespace {

namespace fs = std::filesystem;
namespace h5 = corpus_hdf5;

// Works for directories too: a rename survives a crash only once its directory is synced.
void fsync_path(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": cannot open to fsync: " + std::strerror(errno));
  const int status = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  if (status != 0) throw std::runtime_error(path + ": fsync failed: " + std::strerror(fsync_errno));
}

std::string parent_dir(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// The file being written, removed unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (!committed_) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void commit_to(const std::string& target) {
    if (::rename(path_.c_str(), target.c_str()) != 0)
      throw std::runtime_error(target + ": cannot rename " + path_ +
                               " to it: " + std::strerror(errno));
    committed_ = true;
  }

 private:
  std::string path_;
  bool committed_ = false;
};

// A 1-D dataset that grows at its end. Buffered data goes out in whole chunks, so every chunk
// is compressed once and never read back to be completed.
class AppendedDataset {
 public:
  AppendedDataset(hid_t group, const char* name, hid_t file_type, hid_t memory_type,
                  size_t element_size, std::string where)
      : where_(std::move(where)),
        dataset_(create(group, name, file_type, element_size, where_)),
        memory_type_(memory_type),
        element_size_(element_size) {}

  void push(const void* data, size_t count) {
    const auto* bytes = static_cast<const char*>(data);
    buffer_.insert(buffer_.end(), bytes, bytes + count * element_size_);
    if (buffer_.size() >= kCorpusChunkBytes)
      write(buffer_.size() / kCorpusChunkBytes * kCorpusChunkBytes);
  }
  void flush() { write(buffer_.size()); }

 private:
  static h5::Id create(hid_t group, const char* name, hid_t file_type, size_t element_size,
                       const std::string& where) {
    const hsize_t size = 0, max_size = H5S_UNLIMITED, chunk = kCorpusChunkBytes / element_size;
    h5::Id space(H5Screate_simple(1, &size, &max_size), H5Sclose,
                 where + ": cannot create a dataspace");
    h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, where + ": cannot create properties");
    h5::check(H5Pset_chunk(dcpl.get(), 1, &chunk), where + ": cannot set the chunk size");
    // Without creation times, the same input gives the same bytes, whatever the clock says.
    h5::check(H5Pset_obj_track_times(dcpl.get(), false), where + ": cannot drop the timestamps");
    // Shuffle groups the mostly-zero high bytes of small integers, which deflate then removes.
    h5::check(H5Pset_shuffle(dcpl.get()), where + ": cannot add the shuffle filter");
    h5::check(H5Pset_deflate(dcpl.get(), kCorpusDeflateLevel),
              where + ": cannot add the deflate filter");
    return h5::Id(
        H5Dcreate2(group, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
        H5Dclose, where + ": cannot create the dataset");
  }

  void write(size_t bytes) {
    if (bytes == 0) return;
    const hsize_t count = bytes / element_size_, new_size = size_ + count;
    h5::check(H5Dset_extent(dataset_.get(), &new_size), where_ + ": cannot extend the dataset");
    const h5::Selection s = h5::select(dataset_.get(), size_, count, where_);
    h5::check(H5Dwrite(dataset_.get(), memory_type_, s.memory.get(), s.file.get(), H5P_DEFAULT,
                       buffer_.data()),
              where_ + ": write failed");
    size_ = new_size;
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<ptrdiff_t>(bytes));
  }

  std::string where_;
  h5::Id dataset_;
  hid_t memory_type_;
  size_t element_size_;
  hsize_t size_ = 0;
  std::vector<char> buffer_;
};

h5::Id untimed_group(const std::string& path) {
  h5::Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, path + ": cannot create properties");
  h5::check(H5Pset_obj_track_times(gcpl.get(), false), path + ": cannot drop the timestamps");
  return gcpl;
}

class ColumnWriter {
 public:
  ColumnWriter(hid_t file, const CorpusColumn& column, const std::string& path)
      : group_(H5Gcreate2(file, column.group, H5P_DEFAULT, untimed_group(path).get(), H5P_DEFAULT),
               H5Gclose, path + ": cannot create group " + column.group),
        values_(group_.get(), column.values, h5::file_type(column), h5::memory_type(column),
                h5::element_size(column), path + ": " + h5::column_path(column, column.values)),
        offsets_(group_.get(), kCorpusOffsets, H5T_STD_I64LE, H5T_NATIVE_INT64, sizeof(int64_t),
                 path + ": " + h5::column_path(column, kCorpusOffsets)) {
    offsets_.push(&end_, 1);
  }
  void add(const void* data, size_t count) {
    values_.push(data, count);
    end_ += static_cast<int64_t>(count);
    offsets_.push(&end_, 1);
  }
  void flush() {
    values_.flush();
    offsets_.flush();
  }

 private:
  h5::Id group_;
  AppendedDataset values_;
  AppendedDataset offsets_;
  int64_t end_ = 0;
};

h5::Id create_file(const std::string& path) {
  // H5F_ACC_TRUNC: a leftover of a crashed writer whose process had the same id (common in
  // containers) is overwritten.
  return h5::Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
                path + ": cannot create the HDF5 file");
}

struct Columns {
  Columns(hid_t file, const std::string& path)
      : inputs(file, kCorpusInputs, path),
        targets(file, kCorpusTargets, path),
        ids(file, kCorpusIds, path),
        gold(file, kCorpusGold, path) {}
  ColumnWriter inputs, targets, ids, gold;
};

}  // namespace

struct CorpusWriter::Impl {
  Impl(const std::string& path, const CorpusAttributes& attributes)
      : path(path),
        attributes(attributes),
        temp(path + ".tmp-" + std::to_string(::getpid())),
        file(create_file(temp.path())),
        columns(std::in_place, file.get(), temp.path()) {}

  // Used for messages the caller sees, so they name the corpus rather than the temporary file.
  const std::string path;
  const CorpusAttributes attributes;
  // Declared before the HDF5 handles, so those are closed before the file is removed.
  TempFile temp;
  h5::Id file;
  // Reset before the file is closed: HDF5 defers closing a file until its objects are closed,
  // and the close must be complete before the fsync.
  std::optional<Columns> columns;
  int64_t size = 0;
  bool finished = false;
  // A failed HDF5 write leaves the file in an unknown state; nothing more may be added.
  bool failed = false;

  void require_open(const char* call) const {
    if (finished) throw std::logic_error(path + ": " + call + " after finish()");
    if (failed) throw std::logic_error(path + ": " + call + " after a failed write");
  }
};

CorpusWriter::CorpusWriter(const std::string& path, const CorpusAttributes& attributes,
                           bool force) {
  attributes.validate(path);
  if (!force && fs::exists(path))
    throw std::runtime_error(path + ": already exists; pass --force to replace it");
  if (!fs::is_directory(parent_dir(path)))
    throw std::runtime_error(path + ": directory " + parent_dir(path) + " does not exist");
  const h5::QuietErrors quiet;
  impl_ = std::make_unique<Impl>(path, attributes);
  const hid_t file = impl_->file.get();
  const std::string& where = impl_->temp.path();
  h5::write_attribute(file, "format", kCorpusFormat, where);
  h5::write_attribute(file, "version", kCorpusVersion, where);
  for_each_corpus_attribute(attributes, [&](const char* name, const auto& value) {
    h5::write_attribute(file, name, value, where);
  });
}

CorpusWriter::~CorpusWriter() {
  // Closing an unfinished file may fail; the file is removed anyway, so stay quiet.
  const h5::QuietErrors quiet;
  impl_.reset();
}

void CorpusWriter::add(std::span<const int32_t> input, std::span<const int32_t> target,
                       std::string_view id, std::string_view gold_json) {
  Impl& w = *impl_;
  w.require_open("add()");
  for (const auto& [side, tokens] : {std::pair{"input", input}, std::pair{"target", target}}) {
    const size_t k = find_token_outside_vocab(tokens, w.attributes.vocab_size);
    if (k < tokens.size())
      throw std::invalid_argument(w.path + ": example '" + std::string(id) + "': " + side +
                                  " token " + std::to_string(k) + " is " +
                                  std::to_string(tokens[k]) + ", outside the vocabulary [0, " +
                                  std::to_string(w.attributes.vocab_size) + ")");
  }
  const h5::QuietErrors quiet;
  w.failed = true;
  w.columns->inputs.add(input.data(), input.size());
  w.columns->targets.add(target.data(), target.size());
  w.columns->ids.add(id.data(), id.size());
  w.columns->gold.add(gold_json.data(), gold_json.size());
  w.failed = false;
  ++w.size;
}

void CorpusWriter::finish() {
  Impl& w = *impl_;
  w.require_open("finish()");
  const h5::QuietErrors quiet;
  w.failed = true;
  Columns& c = *w.columns;
  for (ColumnWriter* column : {&c.inputs, &c.targets, &c.ids, &c.gold}) column->flush();
  const std::string& temp = w.temp.path();
  // Written last, so a file without it is recognisably unfinished.
  h5::write_attribute(w.file.get(), "num_examples", w.size, temp);
  // Closing a dataset writes its cached chunks but cannot report a failure; a flush can.
  h5::check(H5Fflush(w.file.get(), H5F_SCOPE_LOCAL), temp + ": cannot finish writing");
  w.columns.reset();
  w.file.close(temp + ": cannot finish writing");
  fsync_path(temp);
  w.temp.commit_to(w.path);
  fsync_path(parent_dir(w.path));
  w.failed = false;
  w.finished = true;
}

int64_t CorpusWriter::size() const {
  return impl_->size;
}

const std::string& CorpusWriter::path() const {
  return impl_->path;
}

}  // namespace stilts::data
