#pragma once
// 1-D index maps: which rank owns global index i of n, and where. Small values, O(1) queries
// (the explicit map: O(log p) owner lookup), iteration over a rank's indices in global order.
//
//   BlockMap        balanced contiguous blocks; the first n % p ranks get one more
//   CyclicMap       i -> rank i % p (round robin)
//   BlockCyclicMap  blocks of b indices dealt round robin (ScaLAPACK style)
//   ExplicitMap     contiguous blocks of given sizes
#include <algorithm>
#include <concepts>
#include <cstdint>
#include <ranges>
#include <vector>

namespace spmd::decomp {

using Index = std::int64_t;

/// Where a global index lives.
struct Location {
  int rank;
  Index local;
  friend bool operator==(const Location&, const Location&) = default;
};

template <class Map>
concept IndexMap = requires(const Map& m, Index i, int r) {
  { m.size() } -> std::convertible_to<Index>;
  { m.ranks() } -> std::convertible_to<int>;
  { m.owner(i) } -> std::convertible_to<int>;
  { m.local_size(r) } -> std::convertible_to<Index>;
  { m.local_to_global(r, i) } -> std::convertible_to<Index>;
  { m.global_to_local(i) } -> std::convertible_to<Location>;
};

/// The global indices rank r owns, in increasing order (a lazy view).
template <IndexMap Map>
[[nodiscard]] auto indices(const Map& map, int rank) {
  return std::views::iota(Index{0}, map.local_size(rank)) |
         std::views::transform([map, rank](Index l) { return map.local_to_global(rank, l); });
}

class BlockMap {
 public:
  BlockMap(Index n, int ranks);
  [[nodiscard]] Index size() const noexcept { return n_; }
  [[nodiscard]] int ranks() const noexcept { return p_; }
  [[nodiscard]] Index offset(int rank) const noexcept {
    return rank * base_ + std::min<Index>(rank, extra_);
  }
  [[nodiscard]] Index local_size(int rank) const noexcept {
    return base_ + (rank < extra_ ? 1 : 0);
  }
  [[nodiscard]] int owner(Index i) const noexcept {
    const Index big = extra_ * (base_ + 1);  // indices held by the ranks with one extra
    return static_cast<int>(i < big ? i / (base_ + 1) : extra_ + (i - big) / base_);
  }
  [[nodiscard]] Index local_to_global(int rank, Index local) const noexcept {
    return offset(rank) + local;
  }
  [[nodiscard]] Location global_to_local(Index i) const noexcept {
    const int r = owner(i);
    return {r, i - offset(r)};
  }

 private:
  Index n_;
  int p_;
  Index base_;
  Index extra_;
};

class CyclicMap {
 public:
  CyclicMap(Index n, int ranks);
  [[nodiscard]] Index size() const noexcept { return n_; }
  [[nodiscard]] int ranks() const noexcept { return p_; }
  [[nodiscard]] int owner(Index i) const noexcept { return static_cast<int>(i % p_); }
  [[nodiscard]] Index local_size(int rank) const noexcept {
    return n_ / p_ + (rank < n_ % p_ ? 1 : 0);
  }
  [[nodiscard]] Index local_to_global(int rank, Index local) const noexcept {
    return local * p_ + rank;
  }
  [[nodiscard]] Location global_to_local(Index i) const noexcept { return {owner(i), i / p_}; }

 private:
  Index n_;
  int p_;
};

class BlockCyclicMap {
 public:
  BlockCyclicMap(Index n, int ranks, Index block);
  [[nodiscard]] Index size() const noexcept { return n_; }
  [[nodiscard]] int ranks() const noexcept { return p_; }
  [[nodiscard]] Index block() const noexcept { return b_; }
  [[nodiscard]] int owner(Index i) const noexcept { return static_cast<int>((i / b_) % p_); }
  [[nodiscard]] Index local_size(int rank) const noexcept;
  [[nodiscard]] Index local_to_global(int rank, Index local) const noexcept {
    return ((local / b_) * p_ + rank) * b_ + local % b_;
  }
  [[nodiscard]] Location global_to_local(Index i) const noexcept {
    const Index blk = i / b_;
    return {static_cast<int>(blk % p_), (blk / p_) * b_ + i % b_};
  }

 private:
  Index n_;
  int p_;
  Index b_;
};

class ExplicitMap {
 public:
  /// Rank r owns `extents[r]` consecutive indices, after those of ranks 0..r-1.
  explicit ExplicitMap(std::vector<Index> extents);
  [[nodiscard]] Index size() const noexcept { return offsets_.back(); }
  [[nodiscard]] int ranks() const noexcept { return static_cast<int>(offsets_.size()) - 1; }
  [[nodiscard]] Index offset(int rank) const noexcept {
    return offsets_[static_cast<std::size_t>(rank)];
  }
  [[nodiscard]] Index local_size(int rank) const noexcept {
    return offsets_[static_cast<std::size_t>(rank) + 1] - offsets_[static_cast<std::size_t>(rank)];
  }
  /// O(log p): the last rank whose block starts at or before i (skipping empty blocks).
  [[nodiscard]] int owner(Index i) const noexcept {
    return static_cast<int>(std::upper_bound(offsets_.begin(), offsets_.end(), i) -
                            offsets_.begin()) -
           1;
  }
  [[nodiscard]] Index local_to_global(int rank, Index local) const noexcept {
    return offset(rank) + local;
  }
  [[nodiscard]] Location global_to_local(Index i) const noexcept {
    const int r = owner(i);
    return {r, i - offset(r)};
  }

 private:
  std::vector<Index> offsets_;  // p + 1 prefix sums
};

}  // namespace spmd::decomp
