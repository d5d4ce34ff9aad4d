#pragma once
// spmd-farm's tasks: read from a task file -- one shell command per line, or JSON Lines with a
// `cmd` and optional settings -- or made from a command template and a list of arguments (GNU
// parallel's replacement strings {} {.} {/} {//} {/.} {#}, its ::: and ::::).
//
// All or nothing: a bad line is a UsageError naming the file and the line, and no task is
// returned. Keys are unique (a repeated key is an error, never a silently dropped task); a task
// without one is keyed by its number (1, 2, ...).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace farm {

struct CommandTask {
  std::string key;                ///< unique within the run
  std::string command;            ///< run by /bin/sh -c; empty when argv is given
  std::vector<std::string> argv;  ///< run directly (PATH lookup), no shell
  std::vector<std::pair<std::string, std::string>> env;  ///< set for this task
  std::string cwd;                                       ///< empty: the farm's
  std::optional<double> timeout;                         ///< seconds
  std::optional<std::uint32_t> attempts;                 ///< tries before it counts as failed
  std::int32_t priority = 0;                             ///< higher runs first
  std::vector<std::string> tags;   ///< runs only on ranks that have every one of these tags
  std::optional<double> estimate;  ///< seconds it is expected to take (deadline planning)
  std::string origin;              ///< "FILE:LINE" it came from, for messages

  /// What the task runs, for display: the shell command, or the argv words quoted for a shell.
  [[nodiscard]] std::string display() const;
};

enum class TaskFormat {
  automatic,   ///< JSON Lines for *.jsonl and *.ndjson, lines otherwise
  lines,       ///< one shell command per line; blank lines and # comments skipped
  json_lines,  ///< one JSON object per line (blank lines and # comments skipped)
};

/// The tasks in `text`, the contents of the file called `name` ("-" for standard input).
[[nodiscard]] std::vector<CommandTask> parse_tasks(std::string_view text, const std::string& name,
                                                   TaskFormat format);

/// One task per argument: `command` with GNU parallel's replacement strings filled in, each
/// argument quoted for the shell ({#} is the task number). A template without any gets " {}".
/// `origin` names where the arguments came from (":::" or the arguments file), for messages.
[[nodiscard]] std::vector<CommandTask> expand_template(const std::string& command,
                                                       const std::vector<std::string>& arguments,
                                                       const std::string& origin);

/// The lines of an arguments file (::::): one argument per line, "\r\n" taken as "\n".
[[nodiscard]] std::vector<std::string> argument_lines(std::string_view text);

/// `text` as one word for /bin/sh, whatever it holds.
[[nodiscard]] std::string shell_quote(std::string_view text);

}  // namespace farm
