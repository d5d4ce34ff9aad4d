#include "spmdkit/runtime/summary.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/text.hpp"

namespace spmd {

void Summary::put(std::string_view key, std::string json) {
  auto same = [key](const auto& entry) { return entry.first == key; };
  if (auto it = std::find_if(entries_.begin(), entries_.end(), same); it != entries_.end()) {
    it->second = std::move(json);
  } else {
    entries_.emplace_back(std::string(key), std::move(json));
  }
}

void Summary::set(std::string_view key, std::string_view value) {
  put(key, json_quote(value));  // any bytes: a path or a command line need not be UTF-8
}
void Summary::set(std::string_view key, double value) { put(key, nlohmann::json(value).dump()); }
void Summary::set(std::string_view key, std::int64_t value) {
  put(key, nlohmann::json(value).dump());
}
void Summary::set(std::string_view key, bool value) { put(key, nlohmann::json(value).dump()); }

void Summary::set_json(std::string_view key, std::string_view json) {
  if (!nlohmann::json::accept(json)) {
    throw Error("Summary::set_json: the value of '" + std::string(key) + "' is not valid JSON");
  }
  put(key, nlohmann::ordered_json::parse(json).dump());  // keeps the order of its keys
}

void Summary::set_json_value(std::string_view key, const nlohmann::ordered_json& value) {
  put(key, json_dump(value));
}

std::string Summary::to_json() const {
  std::string text = "{";
  for (const auto& [key, json] : entries_) {
    if (text.size() > 1) text += ',';
    text += json_quote(key);
    text += ':';
    text += json;
  }
  return text + "}";
}

}  // namespace spmd
