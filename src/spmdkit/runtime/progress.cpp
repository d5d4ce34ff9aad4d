#include "spmdkit/runtime/progress.hpp"

#include <cstdio>

#include <fmt/format.h>

namespace spmd {

Progress::Progress(std::string prefix, std::string label, std::uint64_t total, bool enabled)
    : prefix_(std::move(prefix)),
      label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

Progress::~Progress() { finish(); }

void Progress::update(std::uint64_t done) {
  if (!enabled_ || finished_) return;
  done_ = done;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(250) && done < total_) return;
  last_draw_ = now;
  draw(done);
}

void Progress::finish() {
  if (!enabled_ || finished_) return;
  const std::uint64_t done = done_ > 0 ? done_ : total_;
  if (done != drawn_) draw(done);
  std::fputc('\n', stderr);
  finished_ = true;
}

void Progress::draw(std::uint64_t done) {
  drawn_ = done;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction =
      total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  std::string eta = "?";
  if (fraction > 0.0) eta = fmt::format("{:.1f} s", elapsed * (1.0 - fraction) / fraction);
  const std::string line =
      fmt::format("\r{}: {} {:3.0f}% ({}/{}){}{}, {:.1f} s, eta {}   ", prefix_, label_,
                  100.0 * fraction, done, total_, note_.empty() ? "" : ", ", note_, elapsed, eta);
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace spmd
