#pragma once
// Values on the wire: how typed tasks, results and reduction objects travel in MPI messages and
// journals.
//
// Trivially copyable types travel as their bytes (one memcpy; no serialization). Everything else
// needs a visible choice: the codecs below cover std::string, std::vector, std::pair, std::tuple,
// std::optional and std::map/std::unordered_map; a plain struct gets one from the list of its
// members, written once, in wire order:
//
//   template <> struct spmd::wire::Codec<Page> : spmd::wire::Fields<&Page::url, &Page::links> {};
//
// and any other type by specialising spmd::wire::Codec with its own encode and decode.
//
// A type with neither is a compile error naming this file. Pointers and views (std::string_view,
// std::span) are trivially copyable but would travel as dangling addresses, so they are refused.
// Bytes are native-endian: every rank of a job runs on the same architecture.
#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "spmdkit/runtime/error.hpp"

namespace spmd::wire {

/// Bytes that do not decode as the expected type: a truncated or corrupt message, or a sender
/// and receiver that disagree on a type. Its own type, so that a reader of stored bytes (the
/// farm's journal) can tell damaged input from other failures.
class DecodeError : public Error {
 public:
  using Error::Error;
};

class Writer;
class Reader;

/// Specialise for a type that is not trivially copyable (see the file comment).
template <class T>
struct Codec;

template <class T>
inline constexpr bool is_view_v = false;
template <class C, class Tr>
inline constexpr bool is_view_v<std::basic_string_view<C, Tr>> = true;
template <class T, std::size_t N>
inline constexpr bool is_view_v<std::span<T, N>> = true;

template <class T>
concept HasCodec = requires(Writer& out, Reader& in, const T& value) {
  Codec<T>::encode(out, value);
  { Codec<T>::decode(in) } -> std::same_as<T>;
};

/// Could travel as raw bytes: trivially copyable and not an address.
template <class T>
concept Raw = std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> &&
              !std::is_member_pointer_v<T> && !is_view_v<T>;

/// Travels as raw bytes (a Codec, where one exists, wins).
template <class T>
concept Bitwise = Raw<T> && !HasCodec<T>;

/// Can be put on the wire.
template <class T>
concept Encodable = Bitwise<T> || HasCodec<T>;

/// A compile error that says what to do, for a type that cannot travel.
template <class T>
constexpr void require_encodable() {
  static_assert(Encodable<T>,
                "spmd::wire: this type is neither trivially copyable nor has a "
                "spmd::wire::Codec specialisation (see spmdkit/runtime/wire.hpp)");
}

/// Appends values to a byte string.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void bytes(const void* data, std::size_t size) {
    if (size != 0) out_.append(static_cast<const char*>(data), size);
  }
  void size(std::size_t n) {
    const auto value = static_cast<std::uint64_t>(n);
    bytes(&value, sizeof value);
  }
  template <class T>
  void put(const T& value) {
    require_encodable<T>();
    if constexpr (HasCodec<T>) {
      Codec<T>::encode(*this, value);
    } else {
      bytes(&value, sizeof(T));
    }
  }
  [[nodiscard]] std::string& buffer() noexcept { return out_; }

 private:
  std::string& out_;
};

/// A Writer for hot loops: appends through its own cursor into `out`, which it grows in large
/// steps -- one call into the string per growth, not one per field (a task farm's worker writes
/// six fields per null task, and six appends were a third of that task's cost). Until finish()
/// or the destructor, `out` has spare bytes past the cursor; both only ever shrink it (a string
/// moved away before the destructor runs is left alone).
class CursorWriter {
 public:
  explicit CursorWriter(std::string& out) : out_(out), at_(out.size()) {}
  ~CursorWriter() { finish(); }
  CursorWriter(const CursorWriter&) = delete;
  CursorWriter& operator=(const CursorWriter&) = delete;

  void bytes(const void* data, std::size_t size) {
    if (size > out_.size() - at_) [[unlikely]] {
      grow(size);
    }
    if (size != 0) std::memcpy(out_.data() + at_, data, size);
    at_ += size;
  }
  void size(std::size_t n) {
    const auto value = static_cast<std::uint64_t>(n);
    bytes(&value, sizeof value);
  }
  template <class T>
  void put(const T& value) {
    if constexpr (Bitwise<T>) {
      bytes(&value, sizeof(T));
    } else {
      // Codecs (and the error for a type that cannot travel) through a plain Writer, at the end
      // of `out`.
      finish();
      Writer(out_).put(value);
      at_ = out_.size();
    }
  }
  /// Where the next byte goes (an offset into `out`).
  [[nodiscard]] std::size_t position() const noexcept { return at_; }
  /// Cuts `out` to what was written (writing may go on after).
  void finish() noexcept {
    if (out_.size() > at_) out_.resize(at_);  // (shrinking: no allocation, cannot throw)
  }

 private:
  // Into the string's capacity first (a caller that reserved knows the size), then doubling.
  void grow(std::size_t size) {
    out_.resize(std::max({out_.capacity(), at_ + size, 2 * out_.size(), std::size_t{64}}));
  }

  std::string& out_;
  std::size_t at_;
};

// The decoding errors, thrown out of line: the checks that lead to them then inline into every
// decode (a task farm decodes a few values per task, millions of tasks a second).
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_truncated(std::size_t have,
                                                                   std::size_t wanted) {
  throw DecodeError("spmd::wire: message truncated (" + std::to_string(have) + " bytes, wanted " +
                    std::to_string(wanted) + "): sender and receiver disagree on a type");
}
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_corrupt_length(std::uint64_t value,
                                                                        std::size_t left) {
  throw DecodeError("spmd::wire: corrupt length " + std::to_string(value) + " with " +
                    std::to_string(left) + " bytes left");
}
[[noreturn, gnu::cold, gnu::noinline]] inline void throw_bytes_left(std::size_t left) {
  throw DecodeError("spmd::wire: " + std::to_string(left) +
                    " bytes left after decoding a value: sender and receiver disagree on a type");
}

/// Reads values back; running past the end is an Error (a corrupt or mismatched message).
class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}

  /// Throws unless `size` more bytes are there.
  void require(std::size_t size) const {
    if (size > in_.size() - at_) [[unlikely]] {
      throw_truncated(in_.size(), at_ + size);
    }
  }
  void bytes(void* data, std::size_t size) {
    require(size);
    if (size != 0) std::memcpy(data, in_.data() + at_, size);
    at_ += size;
  }
  /// The next `size` bytes without copying (valid while the input is).
  [[nodiscard]] std::string_view view(std::size_t size) {
    require(size);
    const std::string_view part = in_.substr(at_, size);
    at_ += size;
    return part;
  }
  /// A length or an element count. Every encoded element takes at least one byte, so a count
  /// larger than the bytes left is corrupt (a damaged journal, a mismatched message): refused
  /// here, before anyone allocates for it.
  [[nodiscard]] std::size_t size() {
    std::uint64_t value = 0;
    bytes(&value, sizeof value);
    if (value > in_.size() - at_) [[unlikely]] {
      throw_corrupt_length(value, in_.size() - at_);
    }
    return static_cast<std::size_t>(value);
  }
  template <class T>
  void get(T& value) {
    require_encodable<T>();
    if constexpr (HasCodec<T>) {
      value = Codec<T>::decode(*this);
    } else {
      bytes(&value, sizeof(T));
    }
  }
  template <class T>
  [[nodiscard]] T get() {
    if constexpr (HasCodec<T>) {
      return Codec<T>::decode(*this);
    } else {
      static_assert(Bitwise<T> && std::is_default_constructible_v<T>,
                    "spmd::wire: cannot decode this type (see spmdkit/runtime/wire.hpp)");
      T value;
      bytes(&value, sizeof(T));
      return value;
    }
  }
  [[nodiscard]] bool at_end() const noexcept { return at_ == in_.size(); }
  [[nodiscard]] std::size_t remaining() const noexcept { return in_.size() - at_; }

 private:
  std::string_view in_;
  std::size_t at_ = 0;
};

/// The bytes of one value.
template <Encodable T>
[[nodiscard]] std::string encode(const T& value) {
  if constexpr (Bitwise<T>) {
    std::string out(sizeof(T), '\0');  // within the string's own buffer: one copy, no append
    std::memcpy(out.data(), &value, sizeof(T));
    return out;
  } else {
    std::string out;
    Writer(out).put(value);
    return out;
  }
}

/// The value in `bytes`, which must hold exactly one.
template <Encodable T>
[[nodiscard]] T decode(std::string_view bytes) {
  Reader in(bytes);
  T value = in.template get<T>();
  if (!in.at_end()) [[unlikely]] {
    throw_bytes_left(in.remaining());
  }
  return value;
}

// ---- codecs of the standard types ----

template <class C, class Tr, class A>
struct Codec<std::basic_string<C, Tr, A>> {
  using S = std::basic_string<C, Tr, A>;
  static void encode(Writer& out, const S& s) {
    out.size(s.size());
    out.bytes(s.data(), s.size() * sizeof(C));
  }
  static S decode(Reader& in) {
    S s(in.size(), C{});
    in.bytes(s.data(), s.size() * sizeof(C));
    return s;
  }
};

template <class T, class A>
requires Encodable<T>
struct Codec<std::vector<T, A>> {
  static void encode(Writer& out, const std::vector<T, A>& v) {
    out.size(v.size());
    if constexpr (Bitwise<T>) {
      out.bytes(v.data(), v.size() * sizeof(T));
    } else {
      for (const T& x : v) out.put(x);
    }
  }
  static std::vector<T, A> decode(Reader& in) {
    const std::size_t n = in.size();
    std::vector<T, A> v;
    if constexpr (Bitwise<T>) {
      if (n > in.remaining() / (sizeof(T) == 0 ? 1 : sizeof(T))) in.require(n * sizeof(T));
      v.resize(n);
      in.bytes(v.data(), n * sizeof(T));
    } else {
      v.reserve(std::min<std::size_t>(n, in.remaining()));
      for (std::size_t i = 0; i < n; ++i) v.push_back(in.template get<T>());
    }
    return v;
  }
};

template <class A, class B>
requires(Encodable<A>&& Encodable<B> && !Raw<std::pair<A, B>>) struct Codec<std::pair<A, B>> {
  static void encode(Writer& out, const std::pair<A, B>& p) {
    out.put(p.first);
    out.put(p.second);
  }
  static std::pair<A, B> decode(Reader& in) {
    A a = in.template get<A>();
    B b = in.template get<B>();
    return {std::move(a), std::move(b)};
  }
};

template <class... Ts>
requires((Encodable<Ts> && ...) && !Raw<std::tuple<Ts...>>) struct Codec<std::tuple<Ts...>> {
  static void encode(Writer& out, const std::tuple<Ts...>& t) {
    std::apply([&](const Ts&... xs) { (out.put(xs), ...); }, t);
  }
  static std::tuple<Ts...> decode(Reader& in) {
    // Braced initialisation evaluates left to right.
    return std::tuple<Ts...>{in.template get<Ts>()...};
  }
};

template <class T>
requires(Encodable<T> && !Raw<std::optional<T>>) struct Codec<std::optional<T>> {
  static void encode(Writer& out, const std::optional<T>& o) {
    out.put(static_cast<std::uint8_t>(o.has_value()));
    if (o) out.put(*o);
  }
  static std::optional<T> decode(Reader& in) {
    if (in.template get<std::uint8_t>() == 0) return std::nullopt;
    return in.template get<T>();
  }
};

template <class Map>
struct MapCodec {
  static void encode(Writer& out, const Map& m) {
    out.size(m.size());
    for (const auto& [k, v] : m) {
      out.put(k);
      out.put(v);
    }
  }
  static Map decode(Reader& in) {
    const std::size_t n = in.size();
    Map m;
    for (std::size_t i = 0; i < n; ++i) {
      auto k = in.template get<typename Map::key_type>();
      auto v = in.template get<typename Map::mapped_type>();
      m.emplace(std::move(k), std::move(v));
    }
    return m;
  }
};
template <class K, class V, class C, class A>
requires(Encodable<K>&& Encodable<V>) struct Codec<std::map<K, V, C, A>>
    : MapCodec<std::map<K, V, C, A>> {
};
template <class K, class V, class H, class E, class A>
requires(Encodable<K>&& Encodable<V>) struct Codec<std::unordered_map<K, V, H, E, A>>
    : MapCodec<std::unordered_map<K, V, H, E, A>> {
};

// ---- codecs of plain structs from their member list ----

template <class MemberPointer>
struct MemberOf;
template <class Member, class Class>
struct MemberOf<Member Class::*> {
  using type = Class;
};

/// The codec of a default-constructible struct whose listed data members, each encodable, are
/// its whole state: they travel in the order listed. Adding a member to the struct means adding
/// it here (a member left out arrives default-constructed).
template <auto First, auto... Rest>
requires(std::is_member_object_pointer_v<decltype(First)> &&
         (std::is_same_v<typename MemberOf<decltype(First)>::type,
                         typename MemberOf<decltype(Rest)>::type> &&
          ...)) struct Fields {
  using Type = typename MemberOf<decltype(First)>::type;
  static void encode(Writer& out, const Type& value) {
    out.put(value.*First);
    (out.put(value.*Rest), ...);
  }
  static Type decode(Reader& in) {
    Type value{};
    in.get(value.*First);
    (in.get(value.*Rest), ...);
    return value;
  }
};

}  // namespace spmd::wire
