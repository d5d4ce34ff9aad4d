#pragma once
// Keyed reduction (map-reduce): every rank holds key -> value pairs; a shuffle by key hash
// (one all-to-all-v of wire-encoded entries) brings each key to its owner rank, which combines the
// values. On top: gather everything to one rank ordered by key, or the top k. Keys are strings;
// values any type spmd::wire can encode (runtime/wire.hpp). The owner of a key depends on the key
// only (FNV-1a hash), and ties in top_k are broken by key, so results are identical for any rank
// count.
//
//   std::unordered_map<std::string, long> counts = count_words(my_files);
//   auto owned = spmd::reduce_by_key(comm, counts, std::plus<>{});      // totals of my keys
//   auto top = spmd::top_k(comm, owned, 10);                           // on rank 0
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

/// FNV-1a: the same 64-bit hash of a key on every rank, build and machine.
[[nodiscard]] std::uint64_t stable_hash(std::string_view key) noexcept;

/// The rank that owns `key` among `ranks`.
[[nodiscard]] inline int key_owner(std::string_view key, int ranks) noexcept {
  return static_cast<int>(stable_hash(key) % static_cast<std::uint64_t>(ranks));
}

namespace detail {
// A batch of (key, value) entries is their wire encodings back to back (the codec of
// std::string, then the value's), so a value may be any encodable type.
template <class Value>
void pack(std::string& out, const std::string& key, const Value& value) {
  wire::Writer writer(out);
  writer.put(key);
  writer.put(value);
}

template <class Value, class Fn>
void unpack(std::string_view in, Fn&& fn) {
  wire::Reader reader(in);
  while (!reader.at_end()) {
    auto key = reader.get<std::string>();
    auto value = reader.get<Value>();
    fn(std::move(key), value);
  }
}
}  // namespace detail

/// Collective: the combined value of every key this rank owns (key_owner(key) == rank).
template <class Value, class Combine>
[[nodiscard]] std::unordered_map<std::string, Value> reduce_by_key(
    const Comm& comm, const std::unordered_map<std::string, Value>& local, Combine combine) {
  const int ranks = comm.size();
  std::vector<std::string> out(static_cast<std::size_t>(ranks));
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
  std::string mine;
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
  std::string packed;
  for (const auto& [key, value] : mine) detail::pack(packed, key, value);
  std::vector<std::pair<std::string, Value>> candidates;
  detail::unpack<Value>(comm.gather_bytes(packed, root), [&](std::string key, const Value& value) {
    candidates.emplace_back(std::move(key), value);
  });
  return best(std::move(candidates));
}

}  // namespace spmd
