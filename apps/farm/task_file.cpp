#include "task_file.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/text.hpp"

namespace farm {

namespace {

using spmd::UsageError;
using Json = nlohmann::json;

constexpr std::uint32_t max_attempts = 1000;

[[noreturn]] void bad_line(const std::string& origin, const std::string& why) {
  throw UsageError(fmt::format("{}: {}", origin, why));
}

bool ends_with(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

// Calls `line(number, text)` for each line of `text` (1-based, "\r\n" as "\n").
template <class Fn>
void for_each_line(std::string_view text, Fn&& line) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view one = text.substr(0, end);
    if (!one.empty() && one.back() == '\r') one.remove_suffix(1);
    line(++number, one);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

bool is_skipped(std::string_view line) {
  const std::string_view content = spmd::trim_blanks(line);
  return content.empty() || content.front() == '#';
}

void require_no_nul(std::string_view text, const std::string& origin, const char* what) {
  if (text.find('\0') != std::string_view::npos) {
    bad_line(origin, fmt::format("{} holds a NUL byte", what));
  }
}

std::string string_field(const Json& value, const std::string& origin, const char* field) {
  if (!value.is_string()) {
    bad_line(origin, fmt::format("\"{}\" must be a string, not {}", field, value.type_name()));
  }
  std::string text = value.get<std::string>();
  require_no_nul(text, origin, field);
  return text;
}

double seconds_field(const Json& value, const std::string& origin, const char* field,
                     bool zero_allowed) {
  if (!value.is_number()) {
    bad_line(origin,
             fmt::format("\"{}\" must be a number of seconds, not {}", field, value.type_name()));
  }
  const double seconds = value.get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || (!zero_allowed && seconds == 0)) {
    bad_line(origin,
             fmt::format("\"{}\" must be {} seconds, got {}", field,
                         zero_allowed ? "a finite number of" : "a positive finite number of",
                         value.dump()));
  }
  return seconds;
}

std::int64_t integer_field(const Json& value, const std::string& origin, const char* field,
                           std::int64_t low, std::int64_t high) {
  if (!value.is_number_integer()) {
    bad_line(origin, fmt::format("\"{}\" must be an integer, not {}", field, value.dump()));
  }
  // Unsigned JSON numbers past int64 are out of every range asked for here.
  const bool fits =
      !value.is_number_unsigned() || value.get<std::uint64_t>() <= static_cast<std::uint64_t>(high);
  const std::int64_t number = fits ? value.get<std::int64_t>() : high;
  if (!fits || number < low || number > high) {
    bad_line(origin, fmt::format("\"{}\" must be an integer from {} to {}, got {}", field, low,
                                 high, value.dump()));
  }
  return number;
}

void check_tag(const std::string& tag, const std::string& origin) {
  const bool word = !tag.empty() && std::all_of(tag.begin(), tag.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
  if (!word) {
    bad_line(origin, fmt::format("tag {} is not a word of letters, digits, '-', '_' and '.'",
                                 spmd::json_quote(tag)));
  }
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

CommandTask json_task(std::string_view line, const std::string& origin) {
  Json object;
  try {
    object = Json::parse(line);
  } catch (const Json::parse_error& e) {
    // nlohmann's message starts with its own "[json.exception...]" tag; the byte is what helps.
    bad_line(origin, fmt::format("not valid JSON (at byte {})", e.byte));
  } catch (const Json::exception&) {
    bad_line(origin, "not valid JSON (a number out of range)");  // out_of_range.406
  }
  if (!object.is_object()) {
    bad_line(origin, fmt::format("a task must be a JSON object, not {}", object.type_name()));
  }
  CommandTask task;
  task.origin = origin;
  bool has_command = false;
  for (const auto& [field, value] : object.items()) {
    if (field == "cmd") {
      has_command = true;
      if (value.is_string()) {
        task.command = string_field(value, origin, "cmd");
        if (spmd::trim_blanks(task.command).empty()) bad_line(origin, "\"cmd\" is empty");
      } else if (value.is_array() && !value.empty()) {
        for (const Json& word : value) task.argv.push_back(string_field(word, origin, "cmd"));
      } else {
        bad_line(origin,
                 "\"cmd\" must be a string (run by /bin/sh -c) or a non-empty array of "
                 "strings (the program and its arguments)");
      }
    } else if (field == "key") {
      if (value.is_number_integer()) {
        task.key = value.dump();
      } else {
        task.key = string_field(value, origin, "key");
        if (task.key.empty()) bad_line(origin, "\"key\" is empty");
      }
    } else if (field == "env") {
      if (!value.is_object()) bad_line(origin, "\"env\" must be an object of strings");
      for (const auto& [name, setting] : value.items()) {
        if (!is_variable_name(name)) {
          bad_line(origin,
                   fmt::format("\"env\": {} is not a variable name", spmd::json_quote(name)));
        }
        task.env.emplace_back(name, string_field(setting, origin, "env"));
      }
    } else if (field == "cwd") {
      task.cwd = string_field(value, origin, "cwd");
    } else if (field == "timeout") {
      task.timeout = seconds_field(value, origin, "timeout", false);
    } else if (field == "attempts") {
      task.attempts =
          static_cast<std::uint32_t>(integer_field(value, origin, "attempts", 1, max_attempts));
    } else if (field == "priority") {
      task.priority = static_cast<std::int32_t>(
          integer_field(value, origin, "priority", std::numeric_limits<std::int32_t>::min(),
                        std::numeric_limits<std::int32_t>::max()));
    } else if (field == "tags") {
      if (value.is_string()) {
        task.tags.push_back(value.get<std::string>());
      } else if (value.is_array()) {
        for (const Json& tag : value) task.tags.push_back(string_field(tag, origin, "tags"));
      } else {
        bad_line(origin, "\"tags\" must be a string or an array of strings");
      }
      for (const std::string& tag : task.tags) check_tag(tag, origin);
    } else if (field == "est") {
      task.estimate = seconds_field(value, origin, "est", true);
    } else {
      bad_line(origin, fmt::format("unknown field {} (known: cmd, key, env, cwd, timeout, "
                                   "attempts, priority, tags, est)",
                                   spmd::json_quote(field)));
    }
  }
  if (!has_command) bad_line(origin, "no \"cmd\"");
  return task;
}

// Default keys (task numbers) for tasks without one; a repeated key is an error.
void assign_keys(std::vector<CommandTask>& tasks, const std::string& name) {
  if (tasks.empty()) throw UsageError(fmt::format("{}: no tasks", name));
  std::map<std::string, const CommandTask*> seen;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].key.empty()) tasks[i].key = std::to_string(i + 1);
  }
  for (const CommandTask& task : tasks) {
    const auto [it, inserted] = seen.emplace(task.key, &task);
    if (!inserted) {
      bad_line(task.origin, fmt::format("key {} is also the key of the task of {}",
                                        spmd::json_quote(task.key), it->second->origin));
    }
  }
}

// GNU parallel's replacement strings, longest first where one starts another.
std::optional<std::pair<std::size_t, std::string>> replacement_at(std::string_view text,
                                                                  std::size_t at,
                                                                  std::string_view argument,
                                                                  std::size_t number) {
  const std::string_view rest = text.substr(at);
  const std::size_t slash = argument.rfind('/');
  const std::string_view base =
      slash == std::string_view::npos ? argument : argument.substr(slash + 1);
  const std::string_view dir = slash == std::string_view::npos ? std::string_view(".")
                               : slash == 0                    ? std::string_view("/")
                                                               : argument.substr(0, slash);
  auto without_extension = [](std::string_view path, std::size_t base_from) {
    const std::size_t dot = path.rfind('.');
    return dot == std::string_view::npos || dot <= base_from ? path : path.substr(0, dot);
  };
  const std::size_t base_from = slash == std::string_view::npos ? 0 : slash + 1;
  if (rest.starts_with("{}")) return std::pair{2, shell_quote(argument)};
  if (rest.starts_with("{.}")) {
    return std::pair{3, shell_quote(without_extension(argument, base_from))};
  }
  if (rest.starts_with("{//}")) return std::pair{4, shell_quote(dir)};
  if (rest.starts_with("{/.}")) return std::pair{4, shell_quote(without_extension(base, 0))};
  if (rest.starts_with("{/}")) return std::pair{3, shell_quote(base)};
  if (rest.starts_with("{#}")) return std::pair{3, std::to_string(number)};
  return std::nullopt;
}

}  // namespace

std::string CommandTask::display() const {
  if (argv.empty()) return command;
  std::string words;
  for (const std::string& word : argv) {
    if (!words.empty()) words += ' ';
    words += shell_quote(word);
  }
  return words;
}

std::string shell_quote(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_@%+=:,./-").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(text);
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  quoted += '\'';
  return quoted;
}

std::vector<CommandTask> parse_tasks(std::string_view text, const std::string& name,
                                     TaskFormat format) {
  if (format == TaskFormat::automatic) {
    format = ends_with(name, ".jsonl") || ends_with(name, ".ndjson") ? TaskFormat::json_lines
                                                                     : TaskFormat::lines;
  }
  std::vector<CommandTask> tasks;
  for_each_line(text, [&](std::size_t number, std::string_view line) {
    if (is_skipped(line)) return;
    const std::string origin = fmt::format("{}:{}", name, number);
    require_no_nul(line, origin, "the line");
    if (format == TaskFormat::json_lines) {
      tasks.push_back(json_task(line, origin));
    } else {
      CommandTask task;
      task.command = std::string(line);
      task.origin = origin;
      tasks.push_back(std::move(task));
    }
  });
  assign_keys(tasks, name);
  return tasks;
}

std::vector<std::string> argument_lines(std::string_view text) {
  std::vector<std::string> arguments;
  for_each_line(text, [&](std::size_t, std::string_view line) { arguments.emplace_back(line); });
  return arguments;
}

std::vector<CommandTask> expand_template(const std::string& command,
                                         const std::vector<std::string>& arguments,
                                         const std::string& origin) {
  bool has_replacement = false;
  for (std::size_t at = command.find('{'); at != std::string::npos;
       at = command.find('{', at + 1)) {
    has_replacement = has_replacement || replacement_at(command, at, "", 0).has_value();
  }
  const std::string pattern = has_replacement ? command : command + " {}";
  std::vector<CommandTask> tasks;
  tasks.reserve(arguments.size());
  for (std::size_t i = 0; i < arguments.size(); ++i) {
    const std::string where = fmt::format("{} argument {}", origin, i + 1);
    require_no_nul(arguments[i], where, "the argument");
    CommandTask task;
    task.origin = where;
    for (std::size_t at = 0; at < pattern.size();) {
      if (pattern[at] == '{') {
        if (const auto replaced = replacement_at(pattern, at, arguments[i], i + 1)) {
          task.command += replaced->second;
          at += replaced->first;
          continue;
        }
      }
      task.command += pattern[at++];
    }
    tasks.push_back(std::move(task));
  }
  assign_keys(tasks, origin);
  return tasks;
}

}  // namespace farm
