#include "data/readers/mewslix.h"

#include "data/readers/text_file.h"

namespace stilts::data {

using nlohmann::json;

namespace {

struct Span {
  int64_t start = 0;
  int64_t end = 0;
};

std::vector<Span> read_spans(const json& object, std::string_view key, const JsonPlace& place) {
  const json& spans = json_array(object, key, place);
  std::vector<Span> result;
  for (size_t i = 0; i < spans.size(); ++i) {
    const JsonPlace at = place[key][i];
    Span span{json_int(spans[i], "start", at), json_int(spans[i], "end", at)};
    if (span.start < 0 || span.end <= span.start) at.fail("expected 0 <= start < end");
    result.push_back(span);
  }
  return result;
}

std::string slice(std::string_view text, int64_t start, int64_t end, const JsonPlace& place) {
  const auto part = code_point_slice(text, start, end - start);
  if (!part)
    place.fail("span [" + std::to_string(start) + ", " + std::to_string(end) +
               ") is out of range for a text of " + std::to_string(code_point_count(text)) +
               " code points");
  return std::string(*part);
}

// Python's " ".join(s.splitlines()).replace("  ", " ").strip(), for the texts at hand (no
// splitlines() separators beyond \n and \r).
std::string normalize_space(const std::string& text) {
  std::string joined;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
    joined += text[i] == '\n' || text[i] == '\r' ? ' ' : text[i];
  }
  std::string single;
  for (size_t i = 0; i < joined.size(); ++i) {
    single += joined[i];
    if (joined[i] == ' ' && i + 1 < joined.size() && joined[i + 1] == ' ') ++i;
  }
  const size_t first = single.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string::npos) return "";
  return single.substr(first, single.find_last_not_of(" \t\n\r\f\v") - first + 1);
}

// The baseline escapes "{...}" already in the text as "(...)" so the markers stay unique; the
// match is non-greedy and, like Python's '.', does not cross a newline.
std::string escape_markers(std::string text) {
  for (size_t open = text.find('{'); open != std::string::npos; open = text.find('{', open)) {
    const size_t close = text.find_first_of("}\n", open + 1);
    if (close != std::string::npos && text[close] == '}') {
      text[open] = '(';
      text[close] = ')';
      open = close + 1;
    } else {
      ++open;
    }
  }
  return text;
}

struct Mention {
  std::string example_id;
  std::string query;
  std::string entity_id;  // empty when the label is absent
};

// One mention in its context, as the query text; `needs_entity` makes entity_id required.
Mention read_mention(const json& mention, const std::string& text,
                     const std::vector<Span>& sentences, bool needs_entity,
                     const JsonPlace& place) {
  Mention result;
  result.example_id = json_string(mention, "example_id", place);
  const JsonPlace span_place = place["mention_span"];
  const json& span = json_field(mention, "mention_span", json::value_t::object, place);
  const int64_t start = json_int(span, "start", span_place);
  const int64_t end = json_int(span, "end", span_place);
  const std::string surface = json_string(span, "text", span_place);
  if (start < 0 || end <= start) span_place.fail("expected 0 <= start < end");
  if (slice(text, start, end, span_place) != surface)
    span_place.fail("the context at [" + std::to_string(start) + ", " + std::to_string(end) +
                    ") does not read the mention text '" + surface + "'");
  const Span* sentence = nullptr;
  for (const Span& candidate : sentences)
    if (candidate.start <= start && end <= candidate.end) {
      sentence = &candidate;
      break;
    }
  if (sentence == nullptr) span_place.fail("the mention is not inside one sentence span");
  const std::string left = slice(text, sentence->start, start, span_place);
  const std::string right = slice(text, end, sentence->end, span_place);
  result.query = normalize_space(surface + ": " + escape_markers(left) + " { " + surface + " } " +
                                 escape_markers(right));
  if (mention.contains("entity_id") || needs_entity)
    result.entity_id = json_string(mention, "entity_id", place);
  if (needs_entity && result.entity_id.empty()) place["entity_id"].fail("expected a QID");
  return result;
}

struct Context {
  std::string text;
  std::string language;
  std::vector<Span> sentences;
};

Context read_context(const json& record, const JsonPlace& place) {
  const json& context = json_field(record, "context", json::value_t::object, place);
  const JsonPlace at = place["context"];
  Context result{json_string(context, "text", at), json_string(context, "language", at),
                 read_spans(context, "sentence_spans", at)};
  for (const Span& span : result.sentences) slice(result.text, span.start, span.end, at);
  return result;
}

std::string entity_description(const json& entity, const JsonPlace& place) {
  const std::string description = json_string(entity, "description", place);
  std::string sentences;
  for (const Span& span : read_spans(entity, "sentence_spans", place)) {
    if (!sentences.empty()) sentences += ' ';
    sentences += slice(description, span.start, span.end, place);
  }
  return normalize_space(sentences);
}

Example query_example(const Mention& mention, const std::string& language) {
  Example example;
  example.id = mention.example_id;
  example.language = language;
  example.input = mention.query;
  example.gold["role"] = "query";
  example.gold["labeled"] = !mention.entity_id.empty();
  if (!mention.entity_id.empty()) example.gold["entity_id"] = mention.entity_id;
  return example;
}

}  // namespace

std::vector<Example> read_mewslix(const std::string& path, const ReadOptions& options,
                                  ReadSummary& summary) {
  const std::string name = base_name(path);
  std::vector<Example> examples;
  if (name == "candidate_set_entities.jsonl") {
    for_each_jsonl_record(path, options, summary, [&](const json& entity, const JsonPlace& at) {
      Example example;
      example.id = json_string(entity, "entity_id", at);
      example.language = json_string(entity, "description_language", at);
      check_record_language(example.language, at["description_language"]);
      example.input = entity_description(entity, at);
      example.gold["role"] = "candidate";
      example.gold["title"] = json_string(entity, "title", at);
      examples.push_back(std::move(example));
    });
  } else if (name.rfind("wikipedia_pairs-", 0) == 0) {
    for_each_jsonl_record(path, options, summary, [&](const json& pair, const JsonPlace& at) {
      const json& contextual = json_field(pair, "contextual_mention", json::value_t::object, at);
      const JsonPlace mention_at = at["contextual_mention"];
      const Context context = read_context(contextual, mention_at);
      check_record_language(context.language, mention_at["context"]["language"]);
      const json& mention = json_field(contextual, "mention", json::value_t::object, mention_at);
      const json& entity = json_field(pair, "entity", json::value_t::object, at);
      Example example = query_example(
          read_mention(mention, context.text, context.sentences, true, mention_at["mention"]),
          context.language);
      example.target = entity_description(entity, at["entity"]);
      example.gold["role"] = "pair";
      examples.push_back(std::move(example));
    });
  } else if (name.rfind("wikinews_mentions-", 0) == 0) {
    // The release's one file for every language: the mentions of the options' language, whose
    // entity_id the release keeps.
    const std::string language = resolve_language(path, "", options);
    for_each_jsonl_record(path, options, summary, [&](const json& record, const JsonPlace& at) {
      const json& record_context = json_field(record, "context", json::value_t::object, at);
      if (json_string(record_context, "language", at["context"]) != language) return;
      const Context context = read_context(record, at);
      const json& mentions = json_array(record, "mentions", at);
      for (size_t i = 0; i < mentions.size(); ++i)
        examples.push_back(query_example(
            read_mention(mentions[i], context.text, context.sentences, true, at["mentions"][i]),
            language));
    });
  } else {
    const auto parsed = parse_split_language_name(path, "jsonl");
    const std::string language = resolve_language(path, parsed ? parsed->language : "", options);
    const bool needs_entity = !labels_optional(resolve_split(parsed ? parsed->split : "", options));
    for_each_jsonl_record(path, options, summary, [&](const json& record, const JsonPlace& at) {
      const Context context = read_context(record, at);
      const json& mentions = json_array(record, "mentions", at);
      for (size_t i = 0; i < mentions.size(); ++i)
        examples.push_back(query_example(read_mention(mentions[i], context.text, context.sentences,
                                                      needs_entity, at["mentions"][i]),
                                         language));
    });
  }
  summary.examples += static_cast<int64_t>(examples.size());
  return examples;
}

}  // namespace stilts::data
