#include "spmdkit/patterns/detail/ready_queues.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "spmdkit/runtime/error.hpp"

namespace spmd::detail {

ReadyQueues::ReadyQueues(int ranks, std::vector<int> runners)
    : rank_tags_(static_cast<std::size_t>(std::max(ranks, 1))), runners_(std::move(runners)) {
  groups_.emplace_back();
  place(groups_.front());
}

void ReadyQueues::set_rank_tags(std::vector<std::vector<std::string>> tags_by_rank) {
  tags_by_rank.resize(rank_tags_.size());
  for (auto& tags : tags_by_rank) std::sort(tags.begin(), tags.end());
  rank_tags_ = std::move(tags_by_rank);
  for (Group& group : groups_) place(group);
}

void ReadyQueues::place(Group& group) const {
  group.ranks.assign(rank_tags_.size(), false);
  group.rank_count = 0;
  for (const int rank : runners_) {
    const auto& has = rank_tags_[static_cast<std::size_t>(rank)];
    if (std::includes(has.begin(), has.end(), group.tags.begin(), group.tags.end())) {
      group.ranks[static_cast<std::size_t>(rank)] = true;
      ++group.rank_count;
    }
  }
}

std::uint32_t ReadyQueues::group_of(std::vector<std::string> tags) {
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  for (std::size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].tags == tags) return static_cast<std::uint32_t>(g);
  }
  Group group;
  group.tags = std::move(tags);
  place(group);
  if (group.rank_count == 0) {
    throw UsageError(fmt::format("task farm: no rank that runs tasks has the tags {} a task needs",
                                 fmt::join(group.tags, ",")));
  }
  groups_.push_back(std::move(group));
  return static_cast<std::uint32_t>(groups_.size() - 1);
}

void ReadyQueues::push_back(std::uint64_t id, std::uint32_t group, std::int32_t priority) {
  groups_[group].by_priority[priority].push_back(id);
  ++size_;
}

void ReadyQueues::push_front(std::uint64_t id, std::uint32_t group, std::int32_t priority) {
  groups_[group].by_priority[priority].push_front(id);
  ++size_;
}

// The group whose front `rank` should take next: highest priority, then earliest id.
ReadyQueues::Group* ReadyQueues::best_for(int rank) {
  Group* best = nullptr;
  for (Group& group : groups_) {
    if (group.by_priority.empty() || !group.ranks[static_cast<std::size_t>(rank)]) continue;
    if (best == nullptr) {
      best = &group;
      continue;
    }
    const auto& [priority, line] = *group.by_priority.begin();
    const auto& [best_priority, best_line] = *best->by_priority.begin();
    if (priority > best_priority ||
        (priority == best_priority && line.front() < best_line.front())) {
      best = &group;
    }
  }
  return best;
}

void ReadyQueues::take(int rank, std::size_t most, const std::function<bool(std::uint64_t)>& skip,
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
    std::deque<std::uint64_t>& line = first->second;
    do {
      const std::uint64_t id = line.front();
      line.pop_front();
      --size_;
      if (!skip(id)) {
        out.push_back(id);
        ++taken;
      }
    } while (single_group && taken < most && !line.empty());
    if (line.empty()) best->by_priority.erase(first);
  }
}

std::vector<std::uint64_t> ReadyQueues::take_all() {
  std::map<std::int32_t, std::vector<std::uint64_t>, std::greater<>> all;
  for (Group& group : groups_) {
    for (auto& [priority, line] : group.by_priority) {
      all[priority].insert(all[priority].end(), line.begin(), line.end());
    }
    group.by_priority.clear();
  }
  std::vector<std::uint64_t> ids;
  for (auto& [priority, line] : all) ids.insert(ids.end(), line.begin(), line.end());
  size_ = 0;
  return ids;
}

}  // namespace spmd::detail
