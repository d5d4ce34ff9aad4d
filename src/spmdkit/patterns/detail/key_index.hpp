#pragma once
// The task farm's index of task keys: which task (id) has a key. The keys stay where they are
// (in the master's tasks); the index holds only each key's hash and its task's id, in one flat
// table (open addressing, linear probing, at most half full). A node-based hash map copied every
// key and allocated a node per task: a million null tasks took ~1.3 us each to submit and
// ~0.35 us each to free. Internal: used by FarmScheduler, tested through it.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

namespace spmd::detail {

class KeyIndex {
 public:
  [[nodiscard]] static std::uint64_t hash(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }

  /// The id of the task whose key is `key` (`hash` = hash(key)); `key_of(id)` gives a known
  /// task's key.
  template <class KeyOf>
  [[nodiscard]] std::optional<std::uint64_t> find(std::string_view key, std::uint64_t hash,
                                                  const KeyOf& key_of) const {
    if (slots_.empty()) return std::nullopt;
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t at = hash & mask;; at = (at + 1) & mask) {
      const Slot& slot = slots_[at];
      if (slot.id_plus_one == 0) return std::nullopt;
      if (slot.hash == hash && key_of(slot.id_plus_one - 1) == key) return slot.id_plus_one - 1;
    }
  }

  /// Adds a key known not to be in the index yet.
  void insert(std::uint64_t hash, std::uint64_t id) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    place(hash, id);
    ++count_;
  }

  [[nodiscard]] std::size_t size() const noexcept { return count_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t id_plus_one = 0;  // 0: empty
  };

  void place(std::uint64_t hash, std::uint64_t id) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t at = hash & mask;
    while (slots_[at].id_plus_one != 0) at = (at + 1) & mask;
    slots_[at] = {hash, id + 1};
  }

  void grow() {
    std::vector<Slot> old(slots_.empty() ? 64 : 2 * slots_.size());
    old.swap(slots_);
    for (const Slot& slot : old) {
      if (slot.id_plus_one != 0) place(slot.hash, slot.id_plus_one - 1);
    }
  }

  std::vector<Slot> slots_;  // a power of two of them
  std::size_t count_ = 0;
};

}  // namespace spmd::detail
