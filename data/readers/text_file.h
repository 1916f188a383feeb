// Helpers every native-format reader shares: reading lines and JSON with errors that name the
// file and position, JSON field access that names the JSON path, Python-style (code point)
// offsets into UTF-8 text, and the language and split encoded in XTREME file names.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/readers/reader.h"

namespace stilts::data {

// The file's lines without their line ends ("\n" or "\r\n"); throws std::runtime_error naming
// the path when the file cannot be opened.
std::vector<std::string> read_lines(const std::string& path);

// The fields between the separators, empty ones included.
std::vector<std::string> split_on(const std::string& text, char separator);
std::vector<std::string> split_tabs(const std::string& line);

// How a TSV file quotes its fields: not at all (the tagging files are written verbatim) or as
// Python's csv.writer does (XNLI, PAWS-X: a field holding '"' is quoted, inner quotes doubled).
enum class Quoting { none, csv };

// Calls `row(line_number, columns)` for every line of a TSV file, 1-based; a RecordError from
// `row` or from unbalanced quoting is handled per ReadOptions.
void for_each_tsv_row(
    const std::string& path, Quoting quoting, const ReadOptions& options, ReadSummary& summary,
    const std::function<void(int64_t line_number, const std::vector<std::string>& columns)>& row);

// A TSV file whose first line names its columns, read unquoted (Python's csv.QUOTE_NONE, as the
// GLUE, XNLI-1.0 and PAWS-X releases are read). The header decides where every column is, so an
// empty file is a RecordError at line 1 that always throws, as is a header lacking a column the
// reader needs (require).
class HeaderedTsv {
 public:
  explicit HeaderedTsv(const std::string& path);

  bool has(std::string_view column) const;
  // The position of `column`, which the header must have (require it first).
  size_t index(std::string_view column) const;
  // "the header lacks column 'X', expected A, B" for the first of `columns` it lacks.
  void require(const std::vector<std::string>& columns) const;
  // Calls `row(line_number, columns)` for every line after the header, 1-based; a line with
  // another column count than the header's, or a RecordError from `row`, is handled per
  // ReadOptions.
  void for_each_row(const ReadOptions& options, ReadSummary& summary,
                    const std::function<void(int64_t line_number,
                                             const std::vector<std::string>& columns)>& row) const;

 private:
  std::string path_;
  std::vector<std::string> lines_;
  std::vector<std::string> header_;
};

// Parses a whole JSON file; a syntax error becomes a RecordError naming the line and byte.
nlohmann::json read_json_file(const std::string& path);

// Where a JSON value sits, for errors, which read "file:json.path: what" beside the TSV
// readers' "file:line: what": the path is e.g. "data[0].paragraphs[2].qas[1]", and inside a
// JSONL record it starts with "<line>:".
struct JsonPlace {
  std::string file;
  std::string path;

  JsonPlace operator[](std::string_view key) const;
  JsonPlace operator[](size_t index) const;
  [[noreturn]] void fail(const std::string& what) const;
};

// Calls `record(json, place)` for every non-empty line of a JSONL file, with place naming
// "<line>:" (1-based); syntax errors and RecordErrors from `record` are handled per
// ReadOptions.
void for_each_jsonl_record(
    const std::string& path, const ReadOptions& options, ReadSummary& summary,
    const std::function<void(const nlohmann::json& record, const JsonPlace& place)>& record);

// Typed field access; a missing field or a wrong type raises a RecordError at place[key].
const nlohmann::json& json_field(const nlohmann::json& object, std::string_view key,
                                 nlohmann::json::value_t type, const JsonPlace& place);
std::string json_string(const nlohmann::json& object, std::string_view key, const JsonPlace& place);
int64_t json_int(const nlohmann::json& object, std::string_view key, const JsonPlace& place);
const nlohmann::json& json_array(const nlohmann::json& object, std::string_view key,
                                 const JsonPlace& place);

// The XTREME files store offsets as Python string indices, i.e. Unicode code points. Returns
// text[start:start+length] in code points, or nullopt when the range does not fit the text.
std::optional<std::string_view> code_point_slice(std::string_view text, int64_t start,
                                                 int64_t length);
int64_t code_point_count(std::string_view text);

// A language code inside a record that is not one of the 50: a RecordError at place.
void check_record_language(const std::string& code, const JsonPlace& place);

// The file name without its directories.
std::string base_name(const std::string& path);

// Parses XTREME's "{split}-{lang}.{extension}" file names (dev-de.tsv, test-zh.jsonl), and its
// translate-train files "en-{lang}-translated.{extension}" as split "translate-train".
struct SplitAndLanguage {
  std::string split;
  std::string language;
};
std::optional<SplitAndLanguage> parse_split_language_name(const std::string& path,
                                                          std::string_view extension);

// The examples' language: the one the file name encodes, else options.language; validated
// against the 50 XTREME-R codes. Throws std::invalid_argument naming the path otherwise.
std::string resolve_language(const std::string& path, const std::string& from_file_name,
                             const ReadOptions& options);

// The split: the one the file name encodes, else options.split (possibly empty).
std::string resolve_split(const std::string& from_file_name, const ReadOptions& options);

// XTREME's preprocessing removes the labels of test files, so only there may they be absent.
inline bool labels_optional(const std::string& split) {
  return split == "test";
}

// What an XTREME "{split}-{lang}.{extension}" file's name and the options say about its
// records: language and split resolved as above, the id prefix ("dev-de", or the file name when
// it does not follow the pattern) and whether labels may be absent.
struct SplitFile {
  std::string language;
  std::string split;
  std::string stem;
  bool labels_optional;
};
SplitFile resolve_split_file(const std::string& path, std::string_view extension,
                             const ReadOptions& options);

// Runs `read_record` and turns a RecordError into a skipped record when options allow it.
template <class ReadRecord>
void guarded(const ReadOptions& options, ReadSummary& summary, ReadRecord&& read_record) {
  try {
    read_record();
  } catch (const RecordError& error) {
    handle_bad_record(error, options, summary);
  }
}

}  // namespace stilts::data
