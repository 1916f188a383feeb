// Universal Dependencies treebanks in CoNLL-U, the labeled originals of XTREME's UD-POS test
// files (UD v2.5; v2.7 for lt pl uk wo ro), read into udpos examples the way XTREME turns them
// into its TSV files (third_party/ud-conversion-tools/conllu_to_conll.py with
// --replace_subtokens_with_fused_forms, then utils_preprocess.py's udpos_preprocess):
// - a word is a line with an integer ID: its FORM (column 2) and UPOS (column 4); comments and
//   empty nodes (ID 1.1) are left out;
// - a multiword token (ID 1-2) stands for its words: one token, its own FORM, tagged with the
//   UPOS of the word heading the range. That is the one word with the fewest ancestors in the
//   sentence's graph, whose edges are HEAD and the heads of DEPS that are words (the graph
//   conllu_to_conll.py builds); when several tie, the first of them whose UPOS comes first in
//   conllu_to_conll.py's precedence list (es, fr and it have their own). A tie with a UPOS that
//   list lacks is a malformed sentence: the conversion fails on it;
// - a sentence whose FORMs are "_" (treebanks distributed without their text), n of them with
//   n >= words - 1, is dropped as udpos_preprocess drops it: no example and no id;
// - spaces and U+200C (zero-width non-joiner) are removed from every form, as udpos_preprocess
//   does (UD allows spaces inside a word, in Vietnamese for one); a form left empty is malformed.
// Examples, targets and gold are udpos's (tagging.h); the sentence is the record, and malformed
// ones name the file and line.
#pragma once

#include <string>
#include <vector>

#include "data/example.h"
#include "data/readers/reader.h"

namespace stilts::data {

// `path` is a treebank file, {lang}_{treebank}-ud-{split}.conllu, or a folder whose
// *-ud-{split}.conllu files (split from ReadOptions) are read one after the other in name order,
// as XTREME concatenates a language's treebanks. Language and split come from each file's name,
// else from ReadOptions. Ids: {split}-{lang}-{sentence}, the sentence's place in XTREME's file
// (0-based over the files read, dropped sentences not counted).
std::vector<Example> read_udpos_conllu(const std::string& path, const ReadOptions& options,
                                       ReadSummary& summary);

}  // namespace stilts::data
