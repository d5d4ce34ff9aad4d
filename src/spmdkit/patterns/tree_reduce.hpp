#pragma once
// Tree reductions of objects that are not plain arrays -- histograms, sketches, maps, strings --
// merged up a k-ary tree (DIY's merge-reduce): in round r, each group of `radix` neighbours at
// stride radix^r sends to its first member, which merges what it receives in rank order. log_k(P)
// rounds; values travel through their wire codec (runtime/wire.hpp), the explicit serialization
// path, one message each (matched probe for the variable size).
//
//   std::map<std::string, long> counts = count_here();
//   auto total = spmd::tree_reduce(comm, counts, merge_counts, {.radix = 4});   // on rank 0
//
// `merge(a, b)` gets a from lower ranks and b from higher ones, so a non-commutative merge (string
// concatenation, ordered lists) gives x0 . x1 . ... . x(P-1). A larger radix means fewer rounds
// but more merges per receiving rank (and less parallelism among them).
#include <optional>
#include <string>
#include <utility>

#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

struct TreeOptions {
  int radix = 2;  ///< children per node, >= 2
  int root = 0;   ///< where the result lands
};

/// Collective: the merge of every rank's value, in rank order, on `options.root` (nullopt
/// elsewhere).
template <wire::Encodable T, class Merge>
requires std::invocable<Merge&, T, T>
[[nodiscard]] std::optional<T> tree_reduce(const Comm& comm, T value, Merge merge,
                                           TreeOptions options = {}) {
  if (options.radix < 2) throw UsageError("tree_reduce: radix must be at least 2");
  // A private message space: the tree's messages never meet the caller's.
  const Comm tree = comm.duplicate();
  const int rank = tree.rank(), size = tree.size();
  if (options.root < 0 || options.root >= size) throw UsageError("tree_reduce: root out of range");
  constexpr int tag = 1;
  bool active = true;
  for (long stride = 1; stride < size && active; stride *= options.radix) {
    if (rank % stride != 0) break;
    const long group = stride * options.radix;
    if (rank % group == 0) {
      for (int j = 1; j < options.radix; ++j) {
        const long child = rank + j * stride;
        if (child >= size) break;
        value = merge(std::move(value),
                      wire::decode<T>(tree.receive(static_cast<int>(child), tag).bytes));
      }
    } else {
      tree.send_bytes(static_cast<int>(rank - rank % group), tag, wire::encode(value));
      active = false;
    }
  }
  // Rank 0 holds the result.
  if (options.root != 0) {
    if (rank == 0) tree.send_bytes(options.root, tag + 1, wire::encode(value));
    if (rank == options.root) return wire::decode<T>(tree.receive(0, tag + 1).bytes);
    return std::nullopt;
  }
  if (rank == 0) return value;
  return std::nullopt;
}

/// Collective: the merge of every rank's value, in rank order, on every rank.
template <wire::Encodable T, class Merge>
requires std::invocable<Merge&, T, T>
[[nodiscard]] T tree_allreduce(const Comm& comm, T value, Merge merge, int radix = 2) {
  auto result = tree_reduce(comm, std::move(value), std::move(merge), {.radix = radix, .root = 0});
  std::string bytes = result ? wire::encode(*result) : std::string();
  comm.broadcast_bytes(bytes, 0);
  return wire::decode<T>(bytes);
}

}  // namespace spmd
