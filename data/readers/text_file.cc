#include "data/readers/text_file.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "data/languages.h"

namespace stilts::data {

using nlohmann::json;

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
  }
  return lines;
}

std::vector<std::string> split_on(const std::string& text, char separator) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t at = text.find(separator, start);
    fields.push_back(text.substr(start, at - start));
    if (at == std::string::npos) break;
    start = at + 1;
  }
  return fields;
}

std::vector<std::string> split_tabs(const std::string& line) {
  return split_on(line, '\t');
}

namespace {

// Python's csv module with delimiter '\t' and the default QUOTE_MINIMAL dialect.
std::vector<std::string> split_csv_tabs(const std::string& path, int64_t line_number,
                                        const std::string& line) {
  std::vector<std::string> columns(1);
  size_t i = 0;
  bool field_start = true;
  while (i < line.size()) {
    const char c = line[i];
    if (field_start && c == '"') {
      const size_t open = i++;
      while (true) {
        if (i >= line.size())
          throw RecordError(path, std::to_string(line_number),
                            "unterminated quoted field starting at byte " + std::to_string(open));
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            columns.back() += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        columns.back() += line[i++];
      }
      field_start = false;
    } else if (c == '\t') {
      columns.emplace_back();
      field_start = true;
      ++i;
    } else {
      columns.back() += c;
      field_start = false;
      ++i;
    }
  }
  return columns;
}

}  // namespace

void for_each_tsv_row(
    const std::string& path, Quoting quoting, const ReadOptions& options, ReadSummary& summary,
    const std::function<void(int64_t line_number, const std::vector<std::string>& columns)>& row) {
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto line_number = static_cast<int64_t>(i + 1);
    guarded(options, summary, [&] {
      row(line_number, quoting == Quoting::csv ? split_csv_tabs(path, line_number, lines[i])
                                               : split_tabs(lines[i]));
    });
  }
}

namespace {

std::string comma_list(const std::vector<std::string>& names) {
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

HeaderedTsv::HeaderedTsv(const std::string& path) : path_(path), lines_(read_lines(path)) {
  if (lines_.empty()) throw RecordError(path_, "1", "missing the header line");
  header_ = split_tabs(lines_[0]);
}

bool HeaderedTsv::has(std::string_view column) const {
  return std::find(header_.begin(), header_.end(), column) != header_.end();
}

size_t HeaderedTsv::index(std::string_view column) const {
  return static_cast<size_t>(std::find(header_.begin(), header_.end(), column) - header_.begin());
}

void HeaderedTsv::require(const std::vector<std::string>& columns) const {
  for (const std::string& column : columns)
    if (!has(column))
      throw RecordError(
          path_, "1", "the header lacks column '" + column + "', expected " + comma_list(columns));
}

void HeaderedTsv::for_each_row(
    const ReadOptions& options, ReadSummary& summary,
    const std::function<void(int64_t line_number, const std::vector<std::string>& columns)>& row)
    const {
  for (size_t i = 1; i < lines_.size(); ++i) {
    const auto line_number = static_cast<int64_t>(i + 1);
    guarded(options, summary, [&] {
      const std::vector<std::string> columns = split_tabs(lines_[i]);
      if (columns.size() != header_.size())
        throw RecordError(path_, std::to_string(line_number),
                          "expected " + std::to_string(header_.size()) +
                              " tab-separated columns (" + comma_list(header_) + "), got " +
                              std::to_string(columns.size()));
      row(line_number, columns);
    });
  }
}

namespace {

// nlohmann reports the byte after the offending one; editors want a line.
RecordError json_syntax_error(const std::string& file, const std::string& text,
                              const json::parse_error& error, int64_t first_line) {
  const size_t byte = std::min<size_t>(error.byte, text.size());
  int64_t line = first_line;
  for (size_t i = 0; i + 1 < byte; ++i)
    if (text[i] == '\n') ++line;
  std::string what = error.what();
  // Drop nlohmann's "[json.exception.parse_error.101] " prefix: the position comes first.
  if (const size_t bracket = what.find("] "); bracket != std::string::npos)
    what = what.substr(bracket + 2);
  return RecordError(file, std::to_string(line),
                     "invalid JSON at byte " + std::to_string(byte) + ": " + what);
}

}  // namespace

json read_json_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  try {
    return json::parse(text);
  } catch (const json::parse_error& error) {
    throw json_syntax_error(path, text, error, 1);
  }
}

void for_each_jsonl_record(const std::string& path, const ReadOptions& options,
                           ReadSummary& summary,
                           const std::function<void(const json&, const JsonPlace&)>& record) {
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    guarded(options, summary, [&] {
      const auto line_number = static_cast<int64_t>(i + 1);
      json value;
      try {
        value = json::parse(lines[i]);
      } catch (const json::parse_error& error) {
        throw json_syntax_error(path, lines[i], error, line_number);
      }
      record(value, JsonPlace{path, std::to_string(line_number) + ":"});
    });
  }
}

JsonPlace JsonPlace::operator[](std::string_view key) const {
  const bool fresh = path.empty() || path.back() == ':';
  std::string extended = path;
  if (!fresh) extended += '.';
  extended += key;
  return {file, extended};
}

JsonPlace JsonPlace::operator[](size_t index) const {
  return {file, path + "[" + std::to_string(index) + "]"};
}

void JsonPlace::fail(const std::string& what) const {
  throw RecordError(file, path, what);
}

namespace {

const char* type_name(json::value_t type) {
  switch (type) {
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::boolean:
      return "a boolean";
    default:
      return "a value";
  }
}

bool has_type(const json& value, json::value_t type) {
  if (type == json::value_t::number_integer) return value.is_number_integer();
  return value.type() == type;
}

}  // namespace

const json& json_field(const json& object, std::string_view key, json::value_t type,
                       const JsonPlace& place) {
  if (!object.is_object()) place.fail("expected an object");
  const auto it = object.find(std::string(key));
  if (it == object.end()) place[key].fail(std::string("missing, expected ") + type_name(type));
  if (!has_type(*it, type)) place[key].fail(std::string("expected ") + type_name(type));
  return *it;
}

std::string json_string(const json& object, std::string_view key, const JsonPlace& place) {
  return json_field(object, key, json::value_t::string, place).get<std::string>();
}

int64_t json_int(const json& object, std::string_view key, const JsonPlace& place) {
  return json_field(object, key, json::value_t::number_integer, place).get<int64_t>();
}

const json& json_array(const json& object, std::string_view key, const JsonPlace& place) {
  return json_field(object, key, json::value_t::array, place);
}

namespace {

// Byte offset of code point `n`, or npos when the text has fewer code points.
size_t code_point_to_byte(std::string_view text, int64_t n) {
  size_t byte = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (byte >= text.size()) return std::string_view::npos;
    ++byte;
    while (byte < text.size() && (static_cast<unsigned char>(text[byte]) & 0xC0) == 0x80) ++byte;
  }
  return byte;
}

}  // namespace

std::optional<std::string_view> code_point_slice(std::string_view text, int64_t start,
                                                 int64_t length) {
  if (start < 0 || length < 0) return std::nullopt;
  const size_t begin = code_point_to_byte(text, start);
  if (begin == std::string_view::npos) return std::nullopt;
  const size_t end = code_point_to_byte(text.substr(begin), length);
  if (end == std::string_view::npos) return std::nullopt;
  return text.substr(begin, end);
}

int64_t code_point_count(std::string_view text) {
  int64_t count = 0;
  for (const char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  return count;
}

void check_record_language(const std::string& code, const JsonPlace& place) {
  if (find_language(code) == nullptr)
    place.fail("unknown language code '" + code + "' (expected one of " + language_table_source() +
               ")");
}

std::string base_name(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

std::optional<SplitAndLanguage> parse_split_language_name(const std::string& path,
                                                          std::string_view extension) {
  const std::string name = base_name(path);
  std::string suffix = ".";
  suffix += extension;
  // XTREME's translate-train layout: en-{lang}-translated.{extension}.
  const std::string translated = "-translated" + suffix;
  if (name.size() > 3 + translated.size() && name.rfind("en-", 0) == 0 &&
      name.compare(name.size() - translated.size(), translated.size(), translated) == 0)
    return SplitAndLanguage{"translate-train", name.substr(3, name.size() - 3 - translated.size())};
  const size_t dash = name.find('-');
  if (dash == std::string::npos || name.size() <= suffix.size() ||
      dash >= name.size() - suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  SplitAndLanguage parsed{name.substr(0, dash),
                          name.substr(dash + 1, name.size() - suffix.size() - dash - 1)};
  for (const char* split : {"train", "dev", "val", "test"})
    if (parsed.split == split && !parsed.language.empty()) return parsed;
  return std::nullopt;
}

std::string resolve_language(const std::string& path, const std::string& from_file_name,
                             const ReadOptions& options) {
  const std::string language = from_file_name.empty() ? options.language : from_file_name;
  if (language.empty())
    throw std::invalid_argument(path +
                                ": the file name does not give the language and "
                                "options.language is empty");
  check_language(language, path);
  return language;
}

std::string resolve_split(const std::string& from_file_name, const ReadOptions& options) {
  return from_file_name.empty() ? options.split : from_file_name;
}

SplitFile resolve_split_file(const std::string& path, std::string_view extension,
                             const ReadOptions& options) {
  const auto name = parse_split_language_name(path, extension);
  SplitFile file;
  file.language = resolve_language(path, name ? name->language : "", options);
  file.split = resolve_split(name ? name->split : "", options);
  file.stem = name ? name->split + "-" + name->language : base_name(path);
  file.labels_optional = labels_optional(file.split);
  return file;
}

}  // namespace stilts::data
