#pragma once
// The task farm master's task records: a vector in chunks of 4096, so that growing never moves
// (copies) what is there, nor faults in a fresh array twice the size -- with a million tasks
// submitted one by one, a std::vector's doublings copied and page-faulted its records again and
// again. Elements stay where they are (references stay valid). Internal: used by FarmScheduler.
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

namespace spmd::detail {

template <class T>
class ChunkedVector {
 public:
  [[nodiscard]] std::size_t size() const noexcept { return size_; }

  [[nodiscard]] T& operator[](std::size_t i) noexcept {
    return chunks_[i >> chunk_bits][i & chunk_mask];
  }
  [[nodiscard]] const T& operator[](std::size_t i) const noexcept {
    return chunks_[i >> chunk_bits][i & chunk_mask];
  }
  [[nodiscard]] T& at(std::size_t i) {
    if (i >= size_) throw std::out_of_range("ChunkedVector::at");
    return (*this)[i];
  }
  [[nodiscard]] const T& at(std::size_t i) const {
    if (i >= size_) throw std::out_of_range("ChunkedVector::at");
    return (*this)[i];
  }

  void push_back(T value) {
    if ((size_ >> chunk_bits) == chunks_.size()) {
      chunks_.push_back(std::make_unique<T[]>(chunk_size));
    }
    (*this)[size_] = std::move(value);
    ++size_;
  }

 private:
  static constexpr std::size_t chunk_bits = 12;
  static constexpr std::size_t chunk_size = std::size_t{1} << chunk_bits;
  static constexpr std::size_t chunk_mask = chunk_size - 1;

  std::vector<std::unique_ptr<T[]>> chunks_;
  std::size_t size_ = 0;
};

}  // namespace spmd::detail
