// The HDF5 pieces stilts' two HDF5 formats share, checkpoints (core/checkpoint/) and corpora
// (data/corpus_*.cc): quiet error reporting, owned ids, scalar attributes. Header-only; the
// stilts_hdf5 target carries HDF5's include path and library to the layers that link it
// privately, so no public header of theirs may include this one.
#pragma once

#include <hdf5.h>

// Training reads corpora on the loader's thread while checkpoints are written on the main one.
#if !defined(H5_HAVE_THREADSAFE)
#error "stilts needs HDF5's thread-safe build (Debian 12's libhdf5-dev is one)"
#endif

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace stilts::hdf5 {

// HDF5 prints its error stack to stderr by default; stilts reports errors itself, naming the
// file and what was wrong. The previous handler is restored for other HDF5 users.
class QuietErrors {
 public:
  QuietErrors() {
    H5Eget_auto2(H5E_DEFAULT, &handler_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, handler_, data_); }

 private:
  H5E_auto2_t handler_ = nullptr;
  void* data_ = nullptr;
};

// `what`, plus the most specific entry of HDF5's error stack ("truncated file: eof = ...").
inline std::runtime_error error(const std::string& what) {
  std::string detail;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
        if (n == 0 && e->desc) *static_cast<std::string*>(out) = e->desc;
        return 0;
      },
      &detail);
  return std::runtime_error(detail.empty() ? what : what + " (HDF5: " + detail + ")");
}

inline void check(herr_t status, const std::string& what) {
  if (status < 0) throw error(what);
}

// An HDF5 id closed by its own close function (H5Fclose, H5Dclose, ...) when it goes.
class Id {
 public:
  using Closer = herr_t (*)(hid_t);
  Id(hid_t id, Closer close, const std::string& what) : id_(id), close_(close) {
    if (id < 0) throw error(what);
  }
  Id(Id&& other) noexcept : id_(std::exchange(other.id_, -1)), close_(other.close_) {}
  Id& operator=(Id&&) = delete;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  // Closing a written file flushes it, so its failure is a failed write.
  void close(const std::string& what) { check(close_(std::exchange(id_, -1)), what); }

 private:
  hid_t id_;
  Closer close_;
};

inline Id scalar_space(const std::string& where) {
  return Id(H5Screate(H5S_SCALAR), H5Sclose, where + ": cannot create a dataspace");
}

inline void write_attribute(hid_t object, const char* name, const std::string& value,
                            const std::string& where) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose, where + ": cannot create a string type");
  // Null-padded fixed length, as numpy and h5py write byte strings; HDF5 has no empty one.
  check(H5Tset_size(type.get(), std::max<size_t>(value.size(), 1)), where);
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), where);
  check(H5Tset_cset(type.get(), H5T_CSET_UTF8), where);
  Id attribute(
      H5Acreate2(object, name, type.get(), scalar_space(where).get(), H5P_DEFAULT, H5P_DEFAULT),
      H5Aclose, where + ": cannot create attribute " + name);
  check(H5Awrite(attribute.get(), type.get(), value.c_str()),
        where + ": cannot write attribute " + name);
}

template <std::integral Int>
void write_attribute(hid_t object, const char* name, Int value, const std::string& where) {
  static_assert(sizeof(Int) == 4 || sizeof(Int) == 8);
  const hid_t file = sizeof(Int) == 4 ? H5T_STD_I32LE : H5T_STD_I64LE;
  const hid_t memory = sizeof(Int) == 4 ? H5T_NATIVE_INT32 : H5T_NATIVE_INT64;
  Id attribute(H5Acreate2(object, name, file, scalar_space(where).get(), H5P_DEFAULT, H5P_DEFAULT),
               H5Aclose, where + ": cannot create attribute " + name);
  check(H5Awrite(attribute.get(), memory, &value), where + ": cannot write attribute " + name);
}

inline bool has_attribute(hid_t object, const char* name, const std::string& where) {
  const htri_t exists = H5Aexists(object, name);
  if (exists < 0) throw error(where + ": cannot look up attribute '" + name + "'");
  return exists > 0;
}

// A missing attribute most likely means the file is not of `format` at all, or its writer
// stopped before the end: the message says so.
inline Id open_attribute(hid_t object, const char* name, const std::string& where,
                         std::string_view format) {
  if (!has_attribute(object, name, where))
    throw std::runtime_error(where + ": no attribute '" + name + "' (not a " + std::string(format) +
                             " file, or one whose writer did not finish)");
  return Id(H5Aopen(object, name, H5P_DEFAULT), H5Aclose,
            where + ": cannot open attribute '" + name + "'");
}

inline std::string read_string_attribute(hid_t object, const char* name, const std::string& where,
                                         std::string_view format) {
  Id attribute = open_attribute(object, name, where, format);
  Id type(H5Aget_type(attribute.get()), H5Tclose, where);
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) != 0)
    throw std::runtime_error(where + ": attribute '" + name + "' is not a fixed-length string");
  std::string value(H5Tget_size(type.get()), '\0');
  check(H5Aread(attribute.get(), type.get(), value.data()),
        where + ": cannot read attribute '" + name + "'");
  return value.substr(0, value.find('\0'));
}

inline int64_t read_int_attribute(hid_t object, const char* name, const std::string& where,
                                  std::string_view format) {
  Id attribute = open_attribute(object, name, where, format);
  Id type(H5Aget_type(attribute.get()), H5Tclose, where);
  // HDF5 would convert a float silently; an attribute of another class is an error.
  if (H5Tget_class(type.get()) != H5T_INTEGER)
    throw std::runtime_error(where + ": attribute '" + name + "' is not an integer");
  int64_t value = 0;
  check(H5Aread(attribute.get(), H5T_NATIVE_INT64, &value),
        where + ": cannot read attribute '" + name + "'");
  return value;
}

}  // namespace stilts::hdf5
