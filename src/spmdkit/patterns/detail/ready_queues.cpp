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

void ReadyQueues::push_back_run(std::uint64_t first, std::uint64_t last, std::uint32_t group,
                                std::int32_t priority) {
  if (first >= last) return;
  Line& line = groups_[group].by_priority[priority];
  if (!line.empty() && line.back().last == first) {
    line.back().last = last;
  } else {
    line.push_back({first, last});
  }
  size_ += last - first;
}

void ReadyQueues::push_front(std::uint64_t id, std::uint32_t group, std::int32_t priority) {
  Line& line = groups_[group].by_priority[priority];
  if (!line.empty() && line.front().first == id + 1) {
    --line.front().first;
  } else {
    line.push_front({id, id + 1});
  }
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
        (priority == best_priority && line.front().first < best_line.front().first)) {
      best = &group;
    }
  }
  return best;
}

std::vector<std::uint64_t> ReadyQueues::take_all() {
  std::map<std::int32_t, std::vector<std::uint64_t>, std::greater<>> all;
  for (Group& group : groups_) {
    for (auto& [priority, line] : group.by_priority) {
      auto& ids = all[priority];
      for (const Run& run : line) {
        for (std::uint64_t id = run.first; id < run.last; ++id) ids.push_back(id);
      }
    }
    group.by_priority.clear();
  }
  std::vector<std::uint64_t> ids;
  for (auto& [priority, line] : all) ids.insert(ids.end(), line.begin(), line.end());
  size_ = 0;
  return ids;
}

}  // namespace spmd::detail
