#pragma once
// The task farm's waiting line: tasks grouped by the tags they need (a rank runs a task only if
// it has every one of its tags), each group ordered by priority (higher first; first come, first
// served within a priority). A rank takes the best task among the groups it may run. Internal:
// used by FarmScheduler (farm_scheduler.hpp), tested through it.
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace spmd::detail {

class ReadyQueues {
 public:
  /// `ranks`: how many ranks there are (0..ranks-1); `runners`: those that run tasks.
  ReadyQueues(int ranks, std::vector<int> runners);

  /// The tags of each rank (every rank has none until told).
  void set_rank_tags(std::vector<std::vector<std::string>> tags_by_rank);
  /// The group of the tasks that need `tags`; a UsageError when no rank that runs tasks has
  /// them all (such a task could never run: refused, not waited for).
  std::uint32_t group_of(std::vector<std::string> tags);
  [[nodiscard]] bool runs_on(std::uint32_t group, int rank) const {
    return groups_[group].ranks[static_cast<std::size_t>(rank)];
  }
  /// How many ranks may run the group's tasks.
  [[nodiscard]] std::size_t rank_count(std::uint32_t group) const {
    return groups_[group].rank_count;
  }
  [[nodiscard]] bool has_tagged_groups() const noexcept { return groups_.size() > 1; }

  void push_back(std::uint64_t id, std::uint32_t group, std::int32_t priority) {
    push_back_run(id, id + 1, group, priority);
  }
  /// Tasks first..last-1, in order, of one group and priority.
  void push_back_run(std::uint64_t first, std::uint64_t last, std::uint32_t group,
                     std::int32_t priority);
  void push_front(std::uint64_t id, std::uint32_t group, std::int32_t priority);
  /// Appends to `out` up to `most` tasks `rank` may run, best first, removed; those `skip(id)`
  /// rejects are dropped on the way.
  template <class Skip>
  void take(int rank, std::size_t most, const Skip& skip, std::vector<std::uint64_t>& out);
  /// Every task: by priority, each group's line in order (the static split).
  std::vector<std::uint64_t> take_all();
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  // A line of ids as runs of consecutive ones: tasks are mostly queued in id order, so a
  // million of them are one run -- queued and taken without a write per task.
  struct Run {
    std::uint64_t first, last;  // first..last-1
  };
  using Line = std::deque<Run>;
  struct Group {
    std::vector<std::string> tags;  // sorted, unique
    std::vector<bool> ranks;        // by rank: may run them
    std::size_t rank_count = 0;
    std::map<std::int32_t, Line, std::greater<>> by_priority;
  };
  void place(Group& group) const;
  [[nodiscard]] Group* best_for(int rank);

  std::vector<std::vector<std::string>> rank_tags_;
  std::vector<int> runners_;
  std::vector<Group> groups_;  // [0]: no tags
  std::size_t size_ = 0;
};

template <class Skip>
void ReadyQueues::take(int rank, std::size_t most, const Skip& skip,
                       std::vector<std::uint64_t>& out) {
  std::size_t taken = 0;
  // With a single group its best line stays the best until it is empty: taken from in a row
  // (a batch of thousands of tiny tasks without a search per task); with several, a popped
  // front may hand the lead to another group, so they are compared again for every task.
  const bool single_group = groups_.size() == 1;
  while (taken < most) {
    Group* best = best_for(rank);
    if (best == nullptr) break;
    const auto first = best->by_priority.begin();
    Line& line = first->second;
    do {
      Run& run = line.front();
      const std::uint64_t id = run.first++;
      if (run.first == run.last) line.pop_front();
      --size_;
      if (!skip(id)) {
        out.push_back(id);
        ++taken;
      }
    } while (single_group && taken < most && !line.empty());
    if (line.empty()) best->by_priority.erase(first);
  }
}

}  // namespace spmd::detail
