#pragma once
// The one-line JSON summary an app prints with --json: an ordered set of key -> value that the
// app fills while it runs. spmd::run adds app, status, exit_code, ranks and elapsed time.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace spmd {

class Summary {
 public:
  void set(std::string_view key, std::string_view value);
  void set(std::string_view key, const char* value) { set(key, std::string_view(value)); }
  void set(std::string_view key, double value);
  void set(std::string_view key, std::int64_t value);
  void set(std::string_view key, int value) { set(key, static_cast<std::int64_t>(value)); }
  void set(std::string_view key, bool value);
  /// `json` must be a valid JSON text (checked).
  void set_json(std::string_view key, std::string_view json);
  /// A structured value; its strings may hold any bytes (see runtime/text.hpp).
  void set_json_value(std::string_view key, const nlohmann::ordered_json& value);

  /// `{"key":value,...}` on one line, entries in the order first set.
  [[nodiscard]] std::string to_json() const;

 private:
  void put(std::string_view key, std::string json);
  std::vector<std::pair<std::string, std::string>> entries_;  // key, JSON text
};

}  // namespace spmd
