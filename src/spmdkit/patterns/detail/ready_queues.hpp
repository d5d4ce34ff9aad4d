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

  void push_back(std::uint64_t id, std::uint32_t group, std::int32_t priority);
  void push_front(std::uint64_t id, std::uint32_t group, std::int32_t priority);
  /// Appends to `out` up to `most` tasks `rank` may run, best first, removed; those `skip`
  /// rejects are dropped on the way.
  void take(int rank, std::size_t most, const std::function<bool(std::uint64_t)>& skip,
            std::vector<std::uint64_t>& out);
  /// Every task: by priority, each group's line in order (the static split).
  std::vector<std::uint64_t> take_all();
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  struct Group {
    std::vector<std::string> tags;  // sorted, unique
    std::vector<bool> ranks;        // by rank: may run them
    std::size_t rank_count = 0;
    std::map<std::int32_t, std::deque<std::uint64_t>, std::greater<>> by_priority;
  };
  void place(Group& group) const;
  [[nodiscard]] Group* best_for(int rank);

  std::vector<std::vector<std::string>> rank_tags_;
  std::vector<int> runners_;
  std::vector<Group> groups_;  // [0]: no tags
  std::size_t size_ = 0;
};

}  // namespace spmd::detail
