#pragma once
// Keyed reduction (map-reduce): every rank holds key -> value pairs; a shuffle by key hash
// (one all-to-all-v of packed bytes) brings each key to its owner rank, which combines the values.
// On top: gather everything to one rank ordered by key, or the top k. Keys are strings; values
// any trivially copyable type. The owner of a key depends on the key only (FNV-1a hash), and
// ties in top_k are broken by key, so results are identical for any rank count.
//
//   std::unordered_map<std::string, long> counts = count_words(my_files);
//   auto owned = spmd::reduce_by_key(comm, counts, std::plus<>{});      // totals of my keys
//   auto top = spmd::top_k(comm, owned, 10);                           // on rank 0
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "spmdkit/runtime/comm.hpp"

namespace spmd {

/// FNV-1a: the same 64-bit hash of a key on every rank, build and machine.
[[nodiscard]] std::uint64_t stable_hash(std::string_view key) noexcept;

/// The rank that owns `key` among `ranks`.
[[nodiscard]] inline int key_owner(std::string_view key, int ranks) noexcept {
  return static_cast<int>(stable_hash(key) % static_cast<std::uint64_t>(ranks));
}

namespace detail {
template <class Value>
void pack(std::vector<std::byte>& out, std::string_view key, const Value& value) {
  const auto length = static_cast<std::uint32_t>(key.size());
  const std::size_t at = out.size();
  out.resize(at + sizeof length + key.size() + sizeof(Value));
  std::memcpy(out.data() + at, &length, sizeof length);
  std::memcpy(out.data() + at + sizeof length, key.data(), key.size());
  std::memcpy(out.data() + at + sizeof length + key.size(), &value, sizeof(Value));
}

template <class Value, class Fn>
void unpack(const std::vector<std::byte>& in, Fn&& fn) {
  std::size_t at = 0;
  while (at < in.size()) {
    std::uint32_t length = 0;
    std::memcpy(&length, in.data() + at, sizeof length);
    at += sizeof length;
    std::string key(reinterpret_cast<const char*>(in.data() + at), length);
    at += length;
    Value value;
    std::memcpy(&value, in.data() + at, sizeof(Value));
    at += sizeof(Value);
    fn(std::move(key), value);
  }
}
}  // namespace detail

/// Collective: the combined value of every key this rank owns (key_owner(key) == rank).
template <class Value, class Combine>
[[nodiscard]] std::unordered_map<std::string, Value> reduce_by_key(
    const Comm& comm, const std::unordered_map<std::string, Value>& local, Combine combine) {
  static_assert(std::is_trivially_copyable_v<Value>, "values travel as bytes");
  const int ranks = comm.size();
  std::vector<std::vector<std::byte>> out(static_cast<std::size_t>(ranks));
  for (const auto& [key, value] : local) {
    detail::pack(out[static_cast<std::size_t>(key_owner(key, ranks))], key, value);
  }
  std::unordered_map<std::string, Value> owned;
  detail::unpack<Value>(comm.exchange_bytes(out), [&](std::string key, const Value& value) {
    auto [it, inserted] = owned.try_emplace(std::move(key), value);
    if (!inserted) it->second = combine(it->second, value);
  });
  return owned;
}

/// Collective: every rank's owned entries on `root`, ordered by key (empty elsewhere).
template <class Value>
[[nodiscard]] std::map<std::string, Value> gather_by_key(
    const Comm& comm, const std::unordered_map<std::string, Value>& owned, int root = 0) {
  std::vector<std::byte> mine;
  for (const auto& [key, value] : owned) detail::pack(mine, key, value);
  std::map<std::string, Value> all;
  detail::unpack<Value>(comm.gather_bytes(mine, root), [&](std::string key, const Value& value) {
    all.emplace(std::move(key), value);
  });
  return all;
}

/// Collective: the k entries with the largest values (ties: smaller key first) on `root`, best
/// first; every rank sends only its own best k.
template <class Value, class Less = std::less<Value>>
[[nodiscard]] std::vector<std::pair<std::string, Value>> top_k(
    const Comm& comm, const std::unordered_map<std::string, Value>& owned, std::size_t k,
    int root = 0, Less less = {}) {
  auto better = [&less](const std::pair<std::string, Value>& a,
                        const std::pair<std::string, Value>& b) {
    if (less(b.second, a.second)) return true;
    if (less(a.second, b.second)) return false;
    return a.first < b.first;
  };
  auto best = [&](std::vector<std::pair<std::string, Value>> entries) {
    const std::size_t keep = std::min(k, entries.size());
    std::partial_sort(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(keep),
                      entries.end(), better);
    entries.resize(keep);
    return entries;
  };
  const auto mine = best({owned.begin(), owned.end()});
  std::vector<std::byte> packed;
  for (const auto& [key, value] : mine) detail::pack(packed, key, value);
  std::vector<std::pair<std::string, Value>> candidates;
  detail::unpack<Value>(comm.gather_bytes(packed, root), [&](std::string key, const Value& value) {
    candidates.emplace_back(std::move(key), value);
  });
  return best(std::move(candidates));
}

}  // namespace spmd
