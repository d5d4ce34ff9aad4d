#pragma once
// A progress line on rank 0's stderr (--progress): "spmd-heat: steps 42% (420/1000), 3.1 s, eta 4.2
// s". Redrawn at most a few times a second, so calling update() in a tight loop costs next to
// nothing.
#include <chrono>
#include <cstdint>
#include <string>

namespace spmd {

class Progress {
 public:
  /// Inactive (prints nothing) unless `enabled`; apps pass app.progress_enabled().
  Progress(std::string prefix, std::string label, std::uint64_t total, bool enabled);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void update(std::uint64_t done);
  /// For work whose size grows while it runs (tasks that spawn tasks).
  void set_total(std::uint64_t total) noexcept { total_ = total; }
  /// Extra text after the counts ("2 failed, 1.3e+05/s").
  void set_note(std::string note) { note_ = std::move(note); }
  void finish();

 private:
  void draw(std::uint64_t done);
  std::string prefix_;
  std::string label_;
  std::uint64_t total_;
  std::uint64_t done_ = 0;
  std::uint64_t drawn_ = ~std::uint64_t{0};  // the count on screen
  std::string note_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace spmd
