#include "data/languages.h"

#include <stdexcept>

namespace stilts::data {

// Families per XTREME-R Appendix B; branches are the standard (WALS-style) ones listed in
// shared/reference/xtreme.md section 2.
const std::vector<Language>& xtreme_r_languages() {
  static const std::vector<Language> languages = {
      {"af", "Afrikaans", "Indo-European", "Germanic"},
      {"ar", "Arabic", "Afro-Asiatic", "Semitic"},
      {"az", "Azerbaijani", "Turkic", ""},
      {"bg", "Bulgarian", "Indo-European", "Slavic"},
      {"bn", "Bengali", "Indo-European", "Indo-Aryan"},
      {"de", "German", "Indo-European", "Germanic"},
      {"el", "Greek", "Indo-European", "Greek"},
      {"en", "English", "Indo-European", "Germanic"},
      {"es", "Spanish", "Indo-European", "Romance"},
      {"et", "Estonian", "Uralic", "Finnic"},
      {"eu", "Basque", "isolate", ""},
      {"fa", "Persian", "Indo-European", "Iranian"},
      {"fi", "Finnish", "Uralic", "Finnic"},
      {"fr", "French", "Indo-European", "Romance"},
      {"gu", "Gujarati", "Indo-European", "Indo-Aryan"},
      {"he", "Hebrew", "Afro-Asiatic", "Semitic"},
      {"hi", "Hindi", "Indo-European", "Indo-Aryan"},
      {"ht", "Haitian Creole", "Creole", "French-based"},
      {"hu", "Hungarian", "Uralic", "Ugric"},
      {"id", "Indonesian", "Austronesian", "Malayo-Polynesian"},
      {"it", "Italian", "Indo-European", "Romance"},
      {"ja", "Japanese", "Japonic", ""},
      {"jv", "Javanese", "Austronesian", ""},
      {"ka", "Georgian", "Kartvelian", ""},
      {"kk", "Kazakh", "Turkic", ""},
      {"ko", "Korean", "isolate", "Koreanic"},
      {"lt", "Lithuanian", "Indo-European", "Baltic"},
      {"ml", "Malayalam", "Dravidian", ""},
      {"mr", "Marathi", "Indo-European", "Indo-Aryan"},
      {"ms", "Malay", "Austronesian", ""},
      {"my", "Burmese", "Sino-Tibetan", ""},
      {"nl", "Dutch", "Indo-European", "Germanic"},
      {"pa", "Punjabi", "Indo-European", "Indo-Aryan"},
      {"pl", "Polish", "Indo-European", "Slavic"},
      {"pt", "Portuguese", "Indo-European", "Romance"},
      {"qu", "Quechua", "Quechuan", ""},
      {"ro", "Romanian", "Indo-European", "Romance"},
      {"ru", "Russian", "Indo-European", "Slavic"},
      {"sw", "Swahili", "Niger-Congo", "Bantu"},
      {"ta", "Tamil", "Dravidian", ""},
      {"te", "Telugu", "Dravidian", ""},
      {"th", "Thai", "Kra-Dai", "Tai-Kadai"},
      {"tl", "Tagalog", "Austronesian", ""},
      {"tr", "Turkish", "Turkic", ""},
      {"uk", "Ukrainian", "Indo-European", "Slavic"},
      {"ur", "Urdu", "Indo-European", "Indo-Aryan"},
      {"vi", "Vietnamese", "Austro-Asiatic", ""},
      {"wo", "Wolof", "Niger-Congo", "Atlantic"},
      {"yo", "Yoruba", "Niger-Congo", "Defoid"},
      {"zh", "Chinese", "Sino-Tibetan", ""},
  };
  return languages;
}

const Language* find_language(std::string_view code) {
  for (const Language& language : xtreme_r_languages())
    if (language.code == code) return &language;
  return nullptr;
}

void check_language(const std::string& code, const std::string& where) {
  if (find_language(code) == nullptr)
    throw std::invalid_argument(where + ": unknown language code '" + code +
                                "' (expected one of the 50 XTREME-R codes)");
}

}  // namespace stilts::data
