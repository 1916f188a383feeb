// The HDF5 pieces of the corpus writer and reader, beside those every stilts HDF5 format shares
// (hdf5/objects.h). Private to data/corpus_*.cc: data/ links HDF5 privately, so no public
// header may include this one.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "data/corpus_format.h"
#include "hdf5/objects.h"

namespace stilts::data::corpus_hdf5 {

// The pieces both HDF5 formats share (Id, check, attributes) under this namespace's name.
using namespace ::stilts::hdf5;

inline hid_t file_type(const CorpusColumn& c) {
  return c.tokens ? H5T_STD_I32LE : H5T_STD_U8LE;
}
// Bytes go through unsigned memory: converting to a signed char type would clip UTF-8.
inline hid_t memory_type(const CorpusColumn& c) {
  return c.tokens ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT8;
}
inline size_t element_size(const CorpusColumn& c) {
  return c.tokens ? sizeof(int32_t) : 1;
}
inline std::string column_path(const CorpusColumn& c, const char* dataset) {
  return std::string(c.group) + "/" + dataset;
}

// The file and memory dataspaces of elements [start, start + count) of a 1-D dataset.
struct Selection {
  Id file;
  Id memory;
};
inline Selection select(hid_t dataset, hsize_t start, hsize_t count, const std::string& where) {
  Id file(H5Dget_space(dataset), H5Sclose, where + ": cannot get the dataspace");
  check(H5Sselect_hyperslab(file.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
        where + ": cannot select elements");
  return {std::move(file), Id(H5Screate_simple(1, &count, nullptr), H5Sclose,
                              where + ": cannot create a dataspace")};
}

}  // namespace stilts::data::corpus_hdf5
