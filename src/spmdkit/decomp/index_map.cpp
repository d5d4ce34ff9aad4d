#include "spmdkit/decomp/index_map.hpp"

#include <fmt/format.h>

#include "spmdkit/runtime/error.hpp"

namespace spmd::decomp {

namespace {

void check_sizes(Index n, int ranks) {
  if (n < 0) throw UsageError(fmt::format("an index map needs n >= 0, got {}", n));
  if (ranks < 1) throw UsageError(fmt::format("an index map needs at least 1 rank, got {}", ranks));
}

}  // namespace

BlockMap::BlockMap(Index n, int ranks) : n_(n), p_(ranks), base_(0), extra_(0) {
  check_sizes(n, ranks);
  base_ = n / ranks;
  extra_ = n % ranks;
}

CyclicMap::CyclicMap(Index n, int ranks) : n_(n), p_(ranks) { check_sizes(n, ranks); }

BlockCyclicMap::BlockCyclicMap(Index n, int ranks, Index block) : n_(n), p_(ranks), b_(block) {
  check_sizes(n, ranks);
  if (block < 1)
    throw UsageError(fmt::format("a block-cyclic map needs a block size >= 1, got {}", block));
}

Index BlockCyclicMap::local_size(int rank) const noexcept {
  const Index full_blocks = n_ / b_;
  Index size = (full_blocks / p_ + (rank < full_blocks % p_ ? 1 : 0)) * b_;
  if (full_blocks % p_ == rank) size += n_ % b_;  // the last, partial block
  return size;
}

ExplicitMap::ExplicitMap(std::vector<Index> extents) {
  if (extents.empty()) throw UsageError("an explicit map needs at least 1 rank");
  offsets_.reserve(extents.size() + 1);
  offsets_.push_back(0);
  for (Index extent : extents) {
    if (extent < 0)
      throw UsageError(fmt::format("an explicit map needs extents >= 0, got {}", extent));
    offsets_.push_back(offsets_.back() + extent);
  }
}

}  // namespace spmd::decomp
