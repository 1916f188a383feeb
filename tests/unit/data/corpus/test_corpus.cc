// The corpus file format: round trips, atomic replacement, and refusal of damaged, inconsistent
// or incompatible files with messages that name the file and the problem.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "data/corpus_reader.h"
#include "data/corpus_writer.h"
#include "tests/unit/checkpoint/test_util.h"

namespace stilts::data {
namespace {

namespace fs = std::filesystem;
using stilts::testing::message_of;
using stilts::testing::read_bytes;
using stilts::testing::TempDir;
using stilts::testing::write_bytes;

constexpr int64_t kVocab = 1000;
constexpr size_t kChunkTokens = kCorpusChunkBytes / sizeof(int32_t);

CorpusAttributes attributes() {
  CorpusAttributes a;
  a.task = "xnli";
  a.lang = "ar";
  a.split = "validation";
  a.vocab_size = kVocab;
  a.tokenizer_checksum = "sha256:0123abcd";
  a.pad_id = 0;
  a.eos_id = 1;
  a.unk_id = 2;
  return a;
}

struct Example {
  std::vector<int32_t> input, target;
  std::string id, gold;
};

// Every id in [0, kVocab) from an LCG, so each bit of the int32 encoding is exercised.
std::vector<int32_t> tokens(size_t n, uint64_t& state) {
  std::vector<int32_t> out(n);
  for (int32_t& t : out) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    t = static_cast<int32_t>((state >> 33) % kVocab);
  }
  return out;
}

// Short and empty sequences, sequences longer than a chunk, and UTF-8 text in several scripts,
// right-to-left ones included.
std::vector<Example> examples(size_t n) {
  const char* texts[] = {"premise", "مرحبا بالعالم", "שלום עולם", "你好，世界", "नमस्ते", "😀 ok"};
  std::vector<Example> out;
  uint64_t state = 7;
  for (size_t i = 0; i < n; ++i) {
    Example e;
    const size_t input_length = i % 97 == 5 ? kChunkTokens + 12345 : (i * 37) % 300;
    e.input = tokens(input_length, state);
    e.target = i % 3 == 0 ? std::vector<int32_t>{} : tokens(1 + i % 11, state);
    const std::string text = texts[i % std::size(texts)];
    e.id = text + "-" + std::to_string(i);
    e.gold = i % 4 == 1 ? "" : R"({"label": ")" + text + R"(", "answers": [")" + text + R"("]})";
    out.push_back(std::move(e));
  }
  // A gold text longer than a chunk of bytes.
  out[1].gold = R"({"context": ")" + std::string(kCorpusChunkBytes + 999, 'x') + R"("})";
  return out;
}

void write_corpus(const std::string& path, const std::vector<Example>& examples,
                  const CorpusAttributes& a = attributes(), bool force = false) {
  CorpusWriter writer(path, a, force);
  for (const Example& e : examples) writer.add(e.input, e.target, e.id, e.gold);
  EXPECT_EQ(writer.size(), static_cast<int64_t>(examples.size()));
  writer.finish();
}

void expect_contents(const CorpusReader& reader, const std::vector<Example>& examples) {
  ASSERT_EQ(reader.size(), examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& e = examples[i];
    ASSERT_EQ(reader.input(i), e.input) << "example " << i;
    ASSERT_EQ(reader.target(i), e.target) << "example " << i;
    ASSERT_EQ(reader.id(i), e.id) << "example " << i;
    ASSERT_EQ(reader.gold(i), e.gold) << "example " << i;
    ASSERT_EQ(reader.input_length(i), e.input.size());
    ASSERT_EQ(reader.target_length(i), e.target.size());
  }
}

std::vector<std::string> directory_listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    names.push_back(entry.path().filename().string());
  return names;
}

// Opens `path` for writing with the HDF5 C API, runs `edit` on it and closes it.
void edit_with_hdf5(const std::string& path, const std::function<void(hid_t)>& edit) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  edit(file);
  ASSERT_GE(H5Fclose(file), 0);
}

void write_int64(hid_t file, const char* dataset_name, hsize_t index, int64_t value) {
  const hid_t dataset = H5Dopen2(file, dataset_name, H5P_DEFAULT);
  const hid_t space = H5Dget_space(dataset);
  const hsize_t count = 1;
  H5Sselect_hyperslab(space, H5S_SELECT_SET, &index, nullptr, &count, nullptr);
  const hid_t memory = H5Screate_simple(1, &count, nullptr);
  EXPECT_GE(H5Dwrite(dataset, H5T_NATIVE_INT64, memory, space, H5P_DEFAULT, &value), 0);
  H5Sclose(memory);
  H5Sclose(space);
  H5Dclose(dataset);
}

void write_int64_attribute(hid_t file, const char* name, int64_t value) {
  const hid_t attribute = H5Aopen(file, name, H5P_DEFAULT);
  EXPECT_GE(H5Awrite(attribute, H5T_NATIVE_INT64, &value), 0);
  H5Aclose(attribute);
}

// The message of the error the reader raises, checking that HDF5 printed nothing itself.
std::string open_error(const std::string& path) {
  ::testing::internal::CaptureStderr();
  const std::string message = message_of([&] { CorpusReader reader(path); });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  return message;
}

TEST(Corpus, RoundTripIsBitExact) {
  TempDir dir;
  const std::vector<Example> written = examples(600);
  write_corpus(dir / "c.h5", written);
  const CorpusReader reader(dir / "c.h5");
  expect_contents(reader, written);
  EXPECT_EQ(reader.path(), dir / "c.h5");
  EXPECT_THROW(reader.input(written.size()), std::out_of_range);
}

TEST(Corpus, EmptyCorpusRoundTrips) {
  TempDir dir;
  write_corpus(dir / "c.h5", {});
  const CorpusReader reader(dir / "c.h5");
  EXPECT_EQ(reader.size(), 0u);
  EXPECT_EQ(reader.attributes(), attributes());
}

TEST(Corpus, AttributesRoundTrip) {
  TempDir dir;
  CorpusAttributes a = attributes();
  a.task = "tydiqa";
  a.lang = "te";
  a.split = "train";
  a.vocab_size = 250112;
  a.tokenizer_checksum = "";
  a.pad_id = 250111;
  a.eos_id = 7;
  a.unk_id = 0;
  write_corpus(dir / "c.h5", examples(3), a);
  EXPECT_EQ(CorpusReader(dir / "c.h5").attributes(), a);
  // As any HDF5 tool sees them.
  edit_with_hdf5(dir / "c.h5", [](hid_t file) {
    int64_t value = 0;
    const hid_t count = H5Aopen(file, "num_examples", H5P_DEFAULT);
    EXPECT_GE(H5Aread(count, H5T_NATIVE_INT64, &value), 0);
    EXPECT_EQ(value, 3);
    H5Aclose(count);
    const hid_t version = H5Aopen(file, "version", H5P_DEFAULT);
    EXPECT_GE(H5Aread(version, H5T_NATIVE_INT64, &value), 0);
    EXPECT_EQ(value, 1);
    H5Aclose(version);
  });
}

TEST(Corpus, InvalidAttributesAreRefused) {
  TempDir dir;
  CorpusAttributes a = attributes();
  a.eos_id = static_cast<int32_t>(kVocab);
  EXPECT_CONTAINS(message_of<std::invalid_argument>([&] { CorpusWriter(dir / "c.h5", a); }),
                  "eos_id 1000 is outside the vocabulary");
  EXPECT_TRUE(directory_listing(dir.path()).empty());
}

TEST(Corpus, ExistingOutputIsKeptWithoutForceAndReplacedWithIt) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  const std::vector<Example> old_examples = examples(5), new_examples = examples(9);
  write_corpus(path, old_examples);
  const std::string message = message_of([&] { CorpusWriter writer(path, attributes()); });
  EXPECT_CONTAINS(message, path);
  EXPECT_CONTAINS(message, "--force");
  expect_contents(CorpusReader(path), old_examples);

  CorpusWriter writer(path, attributes(), /*force=*/true);
  for (const Example& e : new_examples) writer.add(e.input, e.target, e.id, e.gold);
  // Until finish(), readers still see the old corpus.
  expect_contents(CorpusReader(path), old_examples);
  writer.finish();
  expect_contents(CorpusReader(path), new_examples);
  EXPECT_EQ(directory_listing(dir.path()), std::vector<std::string>{"c.h5"});
}

TEST(Corpus, UnfinishedWriterLeavesNoFile) {
  TempDir dir;
  {
    CorpusWriter writer(dir / "c.h5", attributes());
    for (const Example& e : examples(200)) writer.add(e.input, e.target, e.id, e.gold);
    EXPECT_EQ(directory_listing(dir.path()),
              std::vector<std::string>{"c.h5.tmp-" + std::to_string(::getpid())});
  }
  EXPECT_TRUE(directory_listing(dir.path()).empty());
}

TEST(Corpus, TokensOutsideTheVocabularyAreRefusedNamingTheExample) {
  TempDir dir;
  CorpusWriter writer(dir / "c.h5", attributes());
  const std::vector<int32_t> good = {5, 6, 1}, too_big = {5, static_cast<int32_t>(kVocab)},
                             negative = {-1};
  const std::string message =
      message_of<std::invalid_argument>([&] { writer.add(good, too_big, "q-17", ""); });
  EXPECT_CONTAINS(message, "example 'q-17'");
  EXPECT_CONTAINS(message, "target token 1 is 1000, outside the vocabulary [0, 1000)");
  EXPECT_CONTAINS(message_of<std::invalid_argument>([&] { writer.add(negative, good, "q-18"); }),
                  "input token 0 is -1");
  // A refused example leaves the writer usable and adds nothing.
  writer.add(good, good, "q-19");
  writer.finish();
  const CorpusReader reader(dir / "c.h5");
  ASSERT_EQ(reader.size(), 1u);
  EXPECT_EQ(reader.id(0), "q-19");
  EXPECT_THROW(writer.add(good, good, "late"), std::logic_error);
}

TEST(Corpus, IncompatibleTokenizerIsRefused) {
  TempDir dir;
  write_corpus(dir / "c.h5", examples(2));
  const CorpusReader reader(dir / "c.h5");
  reader.check_compatible(kVocab, "sha256:0123abcd");
  const std::string message = message_of([&] { reader.check_compatible(250112, "sha256:ffff"); });
  EXPECT_CONTAINS(message, "corpus " + dir / "c.h5" + " was tokenized with vocab_size 1000");
  EXPECT_CONTAINS(message, "'sha256:0123abcd', the model expects vocab_size 250112");
  EXPECT_CONTAINS(message, "'sha256:ffff'");
  EXPECT_CONTAINS(message_of([&] { reader.check_compatible(kVocab, "sha256:ffff"); }),
                  "'sha256:ffff'");
}

TEST(Corpus, MissingTruncatedAndCorruptFilesAreRefused) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  EXPECT_CONTAINS(open_error(path), path + ": no such corpus file");
  write_corpus(path, examples(50));
  const std::string bytes = read_bytes(path);

  write_bytes(path, bytes.substr(0, bytes.size() / 2));
  EXPECT_CONTAINS(open_error(path), path + ": not a readable HDF5 file (truncated or corrupt?)");

  std::string corrupt = bytes;
  corrupt.replace(0, 8, "garbage!");
  write_bytes(path, corrupt);
  EXPECT_CONTAINS(open_error(path), path + ": not a readable HDF5 file");

  write_bytes(path, "not HDF5 at all\n");
  EXPECT_CONTAINS(open_error(path), path + ": not a readable HDF5 file");
}

TEST(Corpus, CorruptChunkIsRefusedWhenRead) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  write_corpus(path, examples(50));
  haddr_t address = 0;
  hsize_t chunk_size = 0;
  edit_with_hdf5(path, [&](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "inputs/tokens", H5P_DEFAULT);
    const hid_t space = H5Dget_space(dataset);
    hsize_t offset = 0;
    unsigned filter_mask = 0;
    EXPECT_GE(H5Dget_chunk_info(dataset, space, 0, &offset, &filter_mask, &address, &chunk_size),
              0);
    H5Sclose(space);
    H5Dclose(dataset);
  });
  ASSERT_GT(chunk_size, 64u);
  std::string bytes = read_bytes(path);
  bytes.replace(address + chunk_size / 2, 32, std::string(32, '\xff'));
  write_bytes(path, bytes);

  const CorpusReader reader(path);  // the offsets are intact
  ::testing::internal::CaptureStderr();
  const std::string message = message_of([&] {
    for (size_t i = 0; i < reader.size(); ++i) reader.input(i);
  });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_CONTAINS(message, path + ": inputs/tokens: cannot read example");
}

TEST(Corpus, StoredTokenOutsideTheVocabularyIsRefusedWhenRead) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  write_corpus(path, examples(3));
  edit_with_hdf5(path, [](hid_t file) {
    const hid_t dataset = H5Dopen2(file, "targets/tokens", H5P_DEFAULT);
    const hsize_t index = 0, count = 1;
    const hid_t space = H5Dget_space(dataset);
    H5Sselect_hyperslab(space, H5S_SELECT_SET, &index, nullptr, &count, nullptr);
    const hid_t memory = H5Screate_simple(1, &count, nullptr);
    const int32_t value = 5000;
    EXPECT_GE(H5Dwrite(dataset, H5T_NATIVE_INT32, memory, space, H5P_DEFAULT, &value), 0);
    H5Sclose(memory);
    H5Sclose(space);
    H5Dclose(dataset);
  });
  const CorpusReader reader(path);
  // Example 0 has an empty target, so the first stored target token is example 1's.
  EXPECT_CONTAINS(message_of([&] { reader.target(1); }),
                  path + ": example 1 ('مرحبا بالعالم-1'): target token 0 is 5000");
}

TEST(Corpus, InconsistentOffsetsAreRefused) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  const std::vector<Example> written = examples(20);
  struct Case {
    std::function<void(hid_t)> damage;
    std::string message;
  };
  const int64_t inputs_end = [&] {
    int64_t n = 0;
    for (const Example& e : written) n += static_cast<int64_t>(e.input.size());
    return n;
  }();
  const std::vector<Case> cases = {
      {[](hid_t f) { write_int64(f, "inputs/offsets", 4, 0); },
       "inputs/offsets decreases: offset 3 is 111, the next one 0"},
      {[](hid_t f) { write_int64(f, "ids/offsets", 0, 3); }, "ids/offsets starts at 3, not at 0"},
      {[&](hid_t f) { write_int64(f, "inputs/offsets", 20, inputs_end + 1); },
       "inputs/tokens holds " + std::to_string(inputs_end) + " elements, but its offsets end at " +
           std::to_string(inputs_end + 1)},
      {[](hid_t f) { write_int64_attribute(f, "num_examples", 21); },
       "inputs/offsets holds 21 offsets; num_examples + 1 = 22 were expected"},
      {[](hid_t f) { H5Ldelete(f, "gold/bytes", H5P_DEFAULT); }, "gold/bytes is missing"},
      {[](hid_t f) { H5Ldelete(f, "targets", H5P_DEFAULT); }, "group 'targets' is missing"},
      {[](hid_t f) { H5Adelete(f, "num_examples"); }, "no attribute 'num_examples'"},
      {[](hid_t f) { write_int64_attribute(f, "version", 2); },
       "format 'stilts-corpus' version 2, expected 'stilts-corpus' version 1"},
  };
  for (const Case& c : cases) {
    write_corpus(path, written, attributes(), /*force=*/true);
    edit_with_hdf5(path, c.damage);
    EXPECT_CONTAINS(open_error(path), path + ": " + c.message);
  }
}

TEST(Corpus, DatasetsAreChunkedAndCompressed) {
  TempDir dir;
  const std::string path = dir / "c.h5";
  write_corpus(path, examples(300));
  edit_with_hdf5(path, [](hid_t file) {
    for (const char* name : {"inputs/tokens", "inputs/offsets", "targets/tokens", "targets/offsets",
                             "ids/bytes", "ids/offsets", "gold/bytes", "gold/offsets"}) {
      SCOPED_TRACE(name);
      const hid_t dataset = H5Dopen2(file, name, H5P_DEFAULT);
      const hid_t dcpl = H5Dget_create_plist(dataset);
      EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED);
      hsize_t chunk = 0;
      EXPECT_EQ(H5Pget_chunk(dcpl, 1, &chunk), 1);
      const hid_t type = H5Dget_type(dataset);
      EXPECT_EQ(chunk * H5Tget_size(type), kCorpusChunkBytes);
      ASSERT_EQ(H5Pget_nfilters(dcpl), 2);
      unsigned flags = 0;
      size_t n_values = 0;
      EXPECT_EQ(H5Pget_filter2(dcpl, 0, &flags, &n_values, nullptr, 0, nullptr, nullptr),
                H5Z_FILTER_SHUFFLE);
      n_values = 1;
      unsigned level = 0;
      EXPECT_EQ(H5Pget_filter2(dcpl, 1, &flags, &n_values, &level, 0, nullptr, nullptr),
                H5Z_FILTER_DEFLATE);
      EXPECT_EQ(level, static_cast<unsigned>(kCorpusDeflateLevel));
      H5Tclose(type);
      H5Pclose(dcpl);
      H5Dclose(dataset);
    }
    // Token ids below 1000 need 10 of the 32 bits: the compressed tokens must be far smaller.
    const hid_t tokens = H5Dopen2(file, "inputs/tokens", H5P_DEFAULT);
    const hid_t space = H5Dget_space(tokens);
    EXPECT_LT(H5Dget_storage_size(tokens) * 2,
              static_cast<hsize_t>(H5Sget_simple_extent_npoints(space)) * sizeof(int32_t));
    H5Sclose(space);
    H5Dclose(tokens);
  });
}

}  // namespace
}  // namespace stilts::data
