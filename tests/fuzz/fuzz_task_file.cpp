// libFuzzer: spmd-farm's task files and templates (apps/farm/task_file.cpp). Input: a first byte
// choosing the form (lines, JSON Lines, or a template on the first line with one argument per
// further line), then the text. Property: parsing ends in tasks or spmd::UsageError -- never
// another exception, a crash or a sanitizer report -- and the tasks it returns have distinct
// keys and something to run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "spmdkit/runtime/error.hpp"
#include "task_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<farm::CommandTask> tasks;
  try {
    switch (data[0] % 3) {
      case 0: tasks = farm::parse_tasks(text, "fuzz.txt", farm::TaskFormat::lines); break;
      case 1: tasks = farm::parse_tasks(text, "fuzz.jsonl", farm::TaskFormat::automatic); break;
      default: {
        const std::size_t end = text.find('\n');
        const std::string command(text.substr(0, end));
        const auto arguments = end == std::string_view::npos
                                   ? std::vector<std::string>{}
                                   : farm::argument_lines(text.substr(end + 1));
        tasks = farm::expand_template(command, arguments, "fuzz-args");
      }
    }
  } catch (const spmd::UsageError&) {
    return 0;
  }
  std::set<std::string> keys;
  for (const farm::CommandTask& task : tasks) {
    if (!keys.insert(task.key).second) std::abort();              // keys are unique
    if (task.command.empty() && task.argv.empty()) std::abort();  // something to run
  }
  return 0;
}
