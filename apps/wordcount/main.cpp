// spmd-wordcount: word frequencies of a text corpus -- functional decomposition as a pipeline
// (read -> tokenise -> count), then a keyed reduction (map-reduce) over all ranks.
//
//   mpirun -np 4 spmd-wordcount books/ --top 20 --output results/words.h5
//
// Readers split the files between them and cut each into chunks at white space; tokenisers turn
// chunks into word counts (see tokenize.hpp for what a word is); counters merge them. Finally
// every word goes to its owner rank by a stable hash and is summed there. /words is sorted by
// count, then word, and identical for any rank count. Unreadable files and directories are
// reported and skipped, and the run then ends with exit code 3 (its counts leave them out).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include <spmdkit/spmdkit.hpp>

#include "tokenize.hpp"

namespace {

namespace fs = std::filesystem;

struct Options {
  std::vector<std::string> paths;
  std::size_t top = 10;
  std::size_t chunk_kib = 1024;
  std::string test_fail_word;  // hidden, for tests: the tokenise stage throws on this word
  void declare(CLI::App& cli) {
    cli.add_option("--test-fail-word", test_fail_word)->group("");
    cli.add_option("paths", paths, "text files, or directories (read recursively)")->required();
    cli.add_option("--top", top, "print the K most frequent words")->capture_default_str();
    cli.add_option("--chunk-kib", chunk_kib, "chunk size of the reader stage [KiB]")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
  }
};

// Every regular file under `directory`, recursively. A directory that cannot be read is a problem
// (reported, and the run ends with exit code 3), never silently left out; the walk goes on
// with its siblings.
void add_directory(const fs::path& directory, std::vector<std::string>& files,
                   std::vector<std::string>& problems) {
  std::error_code error;
  fs::directory_iterator it(directory, error);
  std::vector<fs::path> subdirectories;
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code entry_error;
    const auto status = it->status(entry_error);
    if (entry_error) {
      problems.push_back(fmt::format("{}: {}", it->path().string(), entry_error.message()));
    } else if (fs::is_regular_file(status)) {
      files.push_back(it->path().string());
    } else if (fs::is_directory(status)) {
      if (!it->is_symlink(entry_error)) subdirectories.push_back(it->path());  // no cycles
    } else {
      problems.push_back(fmt::format("{}: not a regular file", it->path().string()));
    }
  }
  if (error) problems.push_back(fmt::format("{}: {}", directory.string(), error.message()));
  for (const auto& subdirectory : subdirectories) add_directory(subdirectory, files, problems);
}

// Every regular file under the paths, sorted (the same list on every rank); entries that cannot
// be read as files are returned as problems.
std::vector<std::string> list_files(const std::vector<std::string>& paths,
                                    std::vector<std::string>& problems) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code error;
    const auto status = fs::status(path, error);
    if (error || !fs::exists(status)) {
      problems.push_back(fmt::format("{}: {}", path, error ? error.message() : "no such file"));
    } else if (fs::is_directory(status)) {
      add_directory(path, files, problems);
    } else if (fs::is_regular_file(status)) {
      files.push_back(path);
    } else {
      problems.push_back(fmt::format("{}: not a regular file", path));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// Reads `path` in chunks of about `chunk` bytes cut after white space (never inside a word or a
// UTF-8 sequence). Returns why the file cannot be read, or an empty string.
template <class Emit>
std::string read_chunks(const std::string& path, std::size_t chunk, Emit&& emit) {
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return errno != 0 ? std::strerror(errno) : "cannot be opened";
  std::string carry;
  std::string buffer(chunk, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    carry.append(buffer.data(), got);
    const auto cut = carry.find_last_of(" \t\r\n\f\v");
    if (cut == std::string::npos) continue;  // one long word so far: keep reading
    emit(carry.substr(0, cut + 1));
    carry.erase(0, cut + 1);
  }
  if (in.bad()) return "a read failed";
  if (!carry.empty()) emit(std::move(carry));
  return {};
}

int run_wordcount(spmd::App& app, const Options& options) {
  std::vector<std::string> problems;
  const auto files = list_files(options.paths, problems);  // every rank: the same list
  if (files.empty()) {
    throw spmd::UsageError(fmt::format("no readable files in {}{}", fmt::join(options.paths, ", "),
                                       problems.empty() ? "" : " (" + problems.front() + ")"));
  }

  wordcount::Counts counts;  // this rank's share, as the count stage merges it
  std::vector<std::string> unreadable;
  std::uint64_t bytes = 0;
  spmd::Pipeline pipeline(app.comm());
  pipeline
      .source<std::string>("read",
                           [&](spmd::StageContext& stage, spmd::Emit<std::string>& out) {
                             for (std::size_t i = static_cast<std::size_t>(stage.rank_in_stage);
                                  i < files.size(); i += static_cast<std::size_t>(stage.width)) {
                               const std::string why = read_chunks(
                                   files[i], options.chunk_kib * 1024, [&](std::string text) {
                                     bytes += text.size();
                                     out(text);
                                   });
                               if (!why.empty()) unreadable.push_back(files[i] + ": " + why);
                             }
                           },
                           {.width = app.size() >= 6 ? 2 : 0})
      .stage<std::string, wordcount::Counts>(
          "tokenise",
          [&options](const std::string& text, spmd::Emit<wordcount::Counts>& out) {
            wordcount::Counts chunk_counts;
            wordcount::count_words(text, chunk_counts);
            if (!options.test_fail_word.empty() && chunk_counts.contains(options.test_fail_word)) {
              throw spmd::Error(
                  fmt::format("test failure at the word '{}'", options.test_fail_word));
            }
            out(chunk_counts);
          })
      .sink<wordcount::Counts>("count", [&](const wordcount::Counts& chunk_counts) {
        for (const auto& [word, n] : chunk_counts) counts[word] += n;
      });
  const spmd::PipelineReport report = pipeline.run();

  // Map-reduce: each word to its owner rank, summed there; then all of them to rank 0.
  const auto owned = spmd::reduce_by_key(app.comm(), counts, std::plus<>{});
  const auto all = spmd::gather_by_key(app.comm(), owned, 0);
  std::vector<std::pair<std::string, std::uint64_t>> sorted(all.begin(), all.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  // The files nobody could read, on rank 0.
  const auto skipped = spmd::tree_allreduce(
      app.comm(), unreadable, [](std::vector<std::string> a, const std::vector<std::string>& b) {
        a.insert(a.end(), b.begin(), b.end());
        return a;
      });
  if (skipped.size() == files.size()) {  // every rank knows: nothing to count is bad input
    throw spmd::UsageError(fmt::format("no readable files in {} ({})",
                                       fmt::join(options.paths, ", "), skipped.front()));
  }
  const auto total_bytes = app.comm().allreduce(bytes, std::plus<>{});
  std::uint64_t tokens = 0;
  for (const auto& [word, n] : sorted) tokens += n;

  std::vector<std::string> words;
  std::vector<std::uint64_t> word_counts;
  if (app.is_root()) {
    for (const auto& [word, n] : sorted) {
      words.push_back(word);
      word_counts.push_back(n);
    }
  }
  tokens = app.comm().broadcast(tokens);
  auto out = spmd::io::AtomicFile::create(app.comm(), app.options().output);
  spmd::io::write_provenance(out.file(), app.provenance(), "spmd-wordcount: word frequencies");
  auto table = spmd::io::Table::create(out.file(), "words");
  spmd::io::TableBatch batch;
  // As wide as the longest word, stored compressed: a long token does not pad the file out.
  batch.column("word", words, spmd::io::TableBatch::longest_value)
      .column("count", word_counts, "1");
  table.append(batch);
  out.file().set_attribute("files", static_cast<std::uint64_t>(files.size()));
  out.file().set_attribute("files_skipped",
                           static_cast<std::uint64_t>(skipped.size() + problems.size()));
  out.file().set_attribute("words", tokens);
  out.file().set_attribute("word_definition",
                           "maximal runs of letters and digits of UTF-8 text, lower-cased "
                           "(see apps/wordcount/tokenize.hpp)");
  out.commit();

  auto& summary = app.summary();
  summary.set("files", static_cast<std::int64_t>(files.size()));
  summary.set("skipped", static_cast<std::int64_t>(skipped.size() + problems.size()));
  summary.set("bytes", static_cast<std::int64_t>(total_bytes));
  summary.set("words", static_cast<std::int64_t>(tokens));
  summary.set("distinct", static_cast<std::int64_t>(sorted.size()));
  summary.set("stages", fmt::format("{}", fmt::join(report.widths, "/")));
  summary.set("output", app.options().output);
  if (app.is_root() && !sorted.empty()) summary.set("top_word", sorted.front().first);

  if (app.is_root() && !app.options().json) {
    for (const auto& problem : problems)
      fmt::print(stderr, "spmd-wordcount: skipped {}\n", spmd::printable(problem));
    for (const auto& file : skipped)
      fmt::print(stderr, "spmd-wordcount: skipped {}\n", spmd::printable(file));
  }
  if (tokens == 0) {
    app.print("spmd-wordcount: the corpus ({} file(s), {} bytes) holds no words\n", files.size(),
              total_bytes);
  } else {
    app.print(
        "spmd-wordcount: {} words ({} distinct) in {} file(s), {} bytes, {} skipped; "
        "pipeline read/tokenise/count on {} rank(s){} in {:.2f} s\n",
        tokens, sorted.size(), files.size(), total_bytes, skipped.size() + problems.size(),
        fmt::join(report.widths, "/"), report.fused ? " (fused)" : "", report.seconds);
    const std::size_t shown = std::min(options.top, sorted.size());
    for (std::size_t i = 0; i < shown; ++i) {
      app.print("  {:>4}. {:<24} {:>10}\n", i + 1, sorted[i].first, sorted[i].second);
    }
  }
  app.print("  wrote {} (/words)\n", app.options().output);
  return skipped.empty() && problems.empty() ? spmd::exit_code::ok : spmd::exit_code::tasks_failed;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  return spmd::run(
      argc, argv,
      {.name = "wordcount",
       .description = "Word frequencies of a text corpus: a read/tokenise/count pipeline and a "
                      "keyed reduction",
       .default_output = "words.h5"},
      [&](CLI::App& cli) { options.declare(cli); },
      [&](spmd::App& app) { return run_wordcount(app, options); });
}
