// The few pieces of Python 3 string semantics the official XTREME evaluation scripts rely on,
// reproduced with ICU so the C++ metrics normalize text exactly as the scripts do:
//
//   lower(s)          str.lower(): full Unicode lower-case mapping (SpecialCasing's unconditional
//                     mappings and Final_Sigma), no language-specific rules.
//   is_space(c)       str.isspace(): general category Zs, or bidirectional class WS, B or S
//                     (the rule of CPython's makeunicodedata.py), so str.split() with no argument.
//   is_word(c)        the `\w` of a Python 3 `re` str pattern: a letter (category L*), a
//                     character with a numeric type (str.isnumeric()), or '_'. Combining marks
//                     (Mn, Mc) are *not* word characters there, so `\b` falls between a base
//                     letter and a following combining mark.
//   remove_words      re.sub(r'\b(w1|w2|...)\b', ' ', text) for words made of word characters:
//                     such a match is exactly a maximal run of word characters equal to one of
//                     the words, so each such run becomes one space.
//
// The Unicode version is ICU's (Debian 12: ICU 72, Unicode 15) rather than the one of the Python
// that scored the official numbers (3.7-3.11: Unicode 11-14); characters assigned or re-classified
// in between may normalize differently.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stilts::experiments::python_text {

// UTF-8 to code points; an invalid byte sequence becomes U+FFFD (the JSON readers of the official
// scripts would have refused such a file).
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

std::u32string lower(std::u32string_view text);
bool is_space(char32_t c);
bool is_word(char32_t c);

// str.split() with no argument: runs of is_space() separate, no empty tokens.
std::vector<std::u32string> split(std::u32string_view text);

// str.strip() with no argument.
std::u32string strip(std::u32string_view text);
std::string strip(std::string_view utf8);

// re.sub(r'\b(words...)\b', ' ', text); every word must consist of word characters only.
std::u32string remove_words(std::u32string_view text, const std::vector<std::u32string>& words);

}  // namespace stilts::experiments::python_text
