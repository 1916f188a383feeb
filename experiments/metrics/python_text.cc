#include "experiments/metrics/python_text.h"

#include <unicode/uchar.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <stdexcept>

namespace stilts::experiments::python_text {

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(bytes, i, length, c);
    out.push_back(c < 0 ? U'\uFFFD' : static_cast<char32_t>(c));
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    uint8_t buffer[U8_MAX_LENGTH];
    int32_t n = 0;
    UBool error = false;
    U8_APPEND(buffer, n, U8_MAX_LENGTH, static_cast<UChar32>(c), error);
    if (error) {
      buffer[0] = 0xEF, buffer[1] = 0xBF, buffer[2] = 0xBD, n = 3;  // U+FFFD
    }
    out.append(reinterpret_cast<const char*>(buffer), static_cast<std::size_t>(n));
  }
  return out;
}

std::u32string lower(std::u32string_view text) {
  std::u16string utf16;
  utf16.reserve(text.size());
  for (char32_t c : text) {
    if (c <= 0xFFFF) {
      utf16.push_back(static_cast<char16_t>(c));
    } else {
      utf16.push_back(static_cast<char16_t>(U16_LEAD(c)));
      utf16.push_back(static_cast<char16_t>(U16_TRAIL(c)));
    }
  }
  // Lower-casing can grow a string (U+0130 becomes two code points), so size generously.
  std::u16string lowered(utf16.size() * 3 + 1, u'\0');
  UErrorCode status = U_ZERO_ERROR;
  const int32_t n = u_strToLower(lowered.data(), static_cast<int32_t>(lowered.size()), utf16.data(),
                                 static_cast<int32_t>(utf16.size()), "", &status);
  if (U_FAILURE(status)) {
    throw std::runtime_error(std::string("python_text::lower: ") + u_errorName(status));
  }
  std::u32string out;
  out.reserve(static_cast<std::size_t>(n));
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(lowered.data(), i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

bool is_space(char32_t c) {
  const auto cp = static_cast<UChar32>(c);
  if (u_charType(cp) == U_SPACE_SEPARATOR) {
    return true;
  }
  const UCharDirection direction = u_charDirection(cp);
  return direction == U_WHITE_SPACE_NEUTRAL || direction == U_BLOCK_SEPARATOR ||
         direction == U_SEGMENT_SEPARATOR;
}

bool is_word(char32_t c) {
  const auto cp = static_cast<UChar32>(c);
  return c == U'_' || u_isalpha(cp) || u_getIntPropertyValue(cp, UCHAR_NUMERIC_TYPE) != U_NT_NONE;
}

std::vector<std::u32string> split(std::u32string_view text) {
  std::vector<std::u32string> tokens;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    const std::size_t begin = i;
    while (i < text.size() && !is_space(text[i])) {
      ++i;
    }
    if (i > begin) {
      tokens.emplace_back(text.substr(begin, i - begin));
    }
  }
  return tokens;
}

std::u32string strip(std::u32string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin])) {
    ++begin;
  }
  while (end > begin && is_space(text[end - 1])) {
    --end;
  }
  return std::u32string(text.substr(begin, end - begin));
}

std::string strip(std::string_view utf8) {
  return encode_utf8(strip(decode_utf8(utf8)));
}

std::u32string remove_words(std::u32string_view text, const std::vector<std::u32string>& words) {
  std::u32string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (!is_word(text[i])) {
      out.push_back(text[i++]);
      continue;
    }
    const std::size_t begin = i;
    while (i < text.size() && is_word(text[i])) {
      ++i;
    }
    const std::u32string_view run = text.substr(begin, i - begin);
    if (std::find(words.begin(), words.end(), run) != words.end()) {
      out.push_back(U' ');
    } else {
      out.append(run);
    }
  }
  return out;
}

}  // namespace stilts::experiments::python_text
