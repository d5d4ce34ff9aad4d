// spmd-farm's task files and templates: what each line means, what a bad line says, and the
// quoting that keeps a file name one word (checked by running the quoted text through /bin/sh).
#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/runtime/error.hpp"
#include "task_file.hpp"

namespace {

using farm::CommandTask;
using farm::TaskFormat;

std::string usage_error(auto&& call) {
  try {
    call();
  } catch (const spmd::UsageError& e) {
    return e.what();
  }
  return "(no error)";
}

// What /bin/sh makes of `words`: each word it sees, one per line.
std::string shell_words(const std::string& words) {
  const std::string command = "printf '%s\\n' " + words;
  std::FILE* pipe = ::popen(command.c_str(), "r");
  std::string out;
  char buffer[256];
  while (const std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

TEST(TaskFile, LinesSkipBlanksAndCommentsAndKeyByTaskNumber) {
  const auto tasks = farm::parse_tasks(
      "# a comment\n\necho one\r\n   \n  # indented comment\nsleep 1 # not a comment\necho 'x y'",
      "tasks.txt", TaskFormat::automatic);
  ASSERT_EQ(tasks.size(), 3u);
  EXPECT_EQ(tasks[0].command, "echo one");
  EXPECT_EQ(tasks[0].key, "1");
  EXPECT_EQ(tasks[0].origin, "tasks.txt:3");
  EXPECT_EQ(tasks[1].command, "sleep 1 # not a comment");
  EXPECT_EQ(tasks[2].command, "echo 'x y'");
  EXPECT_EQ(tasks[2].key, "3");
  EXPECT_EQ(tasks[2].origin, "tasks.txt:7");
}

TEST(TaskFile, ALineStartingWithABraceIsStillAShellCommandInALinesFile) {
  const auto tasks = farm::parse_tasks("{ echo a; echo b; }\n", "-", TaskFormat::automatic);
  ASSERT_EQ(tasks.size(), 1u);
  EXPECT_EQ(tasks[0].command, "{ echo a; echo b; }");
}

TEST(TaskFile, JsonLinesWithEverySetting) {
  const auto tasks = farm::parse_tasks(
      R"({"cmd": "make -C a", "key": "build-a", "env": {"OMP_NUM_THREADS": "1"}, "cwd": "/tmp",)"
      R"( "timeout": 2.5, "attempts": 4, "priority": -3, "tags": ["bigmem", "gpu"], "est": 10})"
      "\n# comment\n"
      R"({"cmd": ["printf", "%s", "a b"], "tags": "bigmem", "key": 7})"
      "\n"
      R"({"cmd": "true"})",
      "t.jsonl", TaskFormat::automatic);
  ASSERT_EQ(tasks.size(), 3u);
  const CommandTask& a = tasks[0];
  EXPECT_EQ(a.key, "build-a");
  EXPECT_EQ(a.command, "make -C a");
  ASSERT_EQ(a.env.size(), 1u);
  EXPECT_EQ(a.env[0].first, "OMP_NUM_THREADS");
  EXPECT_EQ(a.cwd, "/tmp");
  EXPECT_EQ(a.timeout, 2.5);
  EXPECT_EQ(a.attempts, 4u);
  EXPECT_EQ(a.priority, -3);
  EXPECT_EQ(a.tags, (std::vector<std::string>{"bigmem", "gpu"}));
  EXPECT_EQ(a.estimate, 10.0);
  EXPECT_EQ(tasks[1].argv, (std::vector<std::string>{"printf", "%s", "a b"}));
  EXPECT_EQ(tasks[1].key, "7");
  EXPECT_EQ(tasks[1].display(), "printf %s 'a b'");
  EXPECT_EQ(tasks[2].key, "3");
  EXPECT_EQ(tasks[2].origin, "t.jsonl:4");
}

TEST(TaskFile, BadLinesNameTheFileAndLine) {
  auto error = [](const std::string& text, TaskFormat format = TaskFormat::json_lines) {
    return usage_error([&] { (void)farm::parse_tasks(text, "t.jsonl", format); });
  };
  EXPECT_EQ(error("{\"cmd\": \"a\"}\n{\"cmd\": \"b\"\n"), "t.jsonl:2: not valid JSON (at byte 12)");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"est\": 3E999}"),
            "t.jsonl:1: not valid JSON (a number out of range)");  // found by fuzz_task_file
  EXPECT_EQ(error("[1]"), "t.jsonl:1: a task must be a JSON object, not array");
  EXPECT_EQ(error("{\"key\": \"x\"}"), "t.jsonl:1: no \"cmd\"");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"timout\": 3}"),
            "t.jsonl:1: unknown field \"timout\" (known: cmd, key, env, cwd, timeout, attempts, "
            "priority, tags, est)");
  EXPECT_EQ(error("{\"cmd\": []}").substr(0, 31), "t.jsonl:1: \"cmd\" must be a stri");
  EXPECT_EQ(error("{\"cmd\": \"  \"}"), "t.jsonl:1: \"cmd\" is empty");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"timeout\": 0}"),
            "t.jsonl:1: \"timeout\" must be a positive finite number of seconds, got 0");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"attempts\": 0}"),
            "t.jsonl:1: \"attempts\" must be an integer from 1 to 1000, got 0");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"attempts\": 18446744073709551615}"),
            "t.jsonl:1: \"attempts\" must be an integer from 1 to 1000, got 18446744073709551615");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"priority\": 1.5}"),
            "t.jsonl:1: \"priority\" must be an integer, not 1.5");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"env\": {\"1X\": \"v\"}}"),
            "t.jsonl:1: \"env\": \"1X\" is not a variable name");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"env\": {\"X\": 1}}"),
            "t.jsonl:1: \"env\" must be a string, not number");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"tags\": [\"big mem\"]}"),
            "t.jsonl:1: tag \"big mem\" is not a word of letters, digits, '-', '_' and '.'");
  EXPECT_EQ(error("{\"cmd\": \"a\", \"key\": \"k\"}\n\n{\"cmd\": \"b\", \"key\": \"k\"}"),
            "t.jsonl:3: key \"k\" is also the key of the task of t.jsonl:1");
  // A default key (the task number) meets an explicit one.
  EXPECT_EQ(error("{\"cmd\": \"a\"}\n{\"cmd\": \"b\", \"key\": 1}"),
            "t.jsonl:2: key \"1\" is also the key of the task of t.jsonl:1");
  EXPECT_EQ(error("# nothing\n\n"), "t.jsonl: no tasks");
  EXPECT_EQ(error(std::string("echo a\necho \0b\n", 15), TaskFormat::lines),
            "t.jsonl:2: the line holds a NUL byte");
}

TEST(TaskFile, ShellQuotingKeepsAnyTextOneWord) {
  for (const std::string& text :
       {std::string("plain.txt"), std::string("with space"), std::string("it's"),
        std::string("$(touch /tmp/spmd-pwned)`x`;|&<>*?"), std::string("-n"), std::string(""),
        std::string("new\nline"), std::string("ünïcode \xff byte"), std::string("'''")}) {
    EXPECT_EQ(shell_words(farm::shell_quote(text)), text + "\n") << text;
  }
  EXPECT_EQ(farm::shell_quote("a/b-c_d.e"), "a/b-c_d.e");
  EXPECT_EQ(farm::shell_quote("it's"), "'it'\\''s'");
}

TEST(TaskTemplate, ReplacementStringsOfGnuParallel) {
  const auto tasks = farm::expand_template(
      "convert {} {.}.png {/} {//} {/.} #{#}",
      {"dir/sub/photo.jpg", "plain", "/top.tar.gz", "a.dir/file", ".hidden"}, ":::");
  ASSERT_EQ(tasks.size(), 5u);
  EXPECT_EQ(tasks[0].command,
            "convert dir/sub/photo.jpg dir/sub/photo.png photo.jpg dir/sub photo #1");
  EXPECT_EQ(tasks[1].command, "convert plain plain.png plain . plain #2");
  EXPECT_EQ(tasks[2].command, "convert /top.tar.gz /top.tar.png top.tar.gz / top.tar #3");
  EXPECT_EQ(tasks[3].command, "convert a.dir/file a.dir/file.png file a.dir file #4");
  EXPECT_EQ(tasks[4].command, "convert .hidden .hidden.png .hidden . .hidden #5");
  EXPECT_EQ(tasks[4].key, "5");
  EXPECT_EQ(tasks[4].origin, "::: argument 5");
}

TEST(TaskTemplate, ArgumentsAreQuotedAndATemplateWithoutReplacementGetsOne) {
  const auto tasks = farm::expand_template("gzip -k", {"my file.txt", "x'; rm -rf /"}, "list");
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].command, "gzip -k 'my file.txt'");
  EXPECT_EQ(tasks[1].command, "gzip -k 'x'\\''; rm -rf /'");
  // Other braces (shell groups, parameter expansion) are left alone.
  const auto braces = farm::expand_template("{ echo ${HOME} {}; }", {"a"}, ":::");
  EXPECT_EQ(braces[0].command, "{ echo ${HOME} a; }");
}

TEST(TaskTemplate, ArgumentLinesAndEmptyLists) {
  EXPECT_EQ(farm::argument_lines("a\r\nb c\n\nd"), (std::vector<std::string>{"a", "b c", "", "d"}));
  EXPECT_EQ(farm::argument_lines("a\n"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(usage_error([] { (void)farm::expand_template("echo", {}, "args.txt"); }),
            "args.txt: no tasks");
}

}  // namespace
