// Values through the wire codecs come back equal; corrupt input is an error, never garbage.
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <cstring>

#include <gtest/gtest.h>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace {

struct Point {
  double x, y;
  int tag;
  bool operator==(const Point&) const = default;
};

struct Page {  // not trivially copyable: needs a codec
  std::string url;
  std::vector<std::string> links;
  bool operator==(const Page&) const = default;
};

}  // namespace

template <>
struct spmd::wire::Codec<Page> : spmd::wire::Fields<&Page::url, &Page::links> {};

namespace {

template <class T>
T round_trip(const T& value) {
  return spmd::wire::decode<T>(spmd::wire::encode(value));
}

TEST(Wire, TriviallyCopyableTravelsAsItsBytes) {
  const Point p{1.5, -2.25, 7};
  const std::string bytes = spmd::wire::encode(p);
  EXPECT_EQ(bytes.size(), sizeof(Point));
  EXPECT_EQ(round_trip(p), p);
  static_assert(spmd::wire::Bitwise<Point>);
  static_assert(!spmd::wire::Encodable<const char*>);
  static_assert(!spmd::wire::Encodable<std::string_view>);
  static_assert(!spmd::wire::Bitwise<Page> && spmd::wire::Encodable<Page>);
}

TEST(Wire, StandardContainersAndUserCodecs) {
  EXPECT_EQ(round_trip(std::string("h\0llo", 5)), std::string("h\0llo", 5));
  EXPECT_EQ(round_trip(std::string()), std::string());
  const std::vector<std::string> words{"a", "", "ünïcode", std::string(1000, 'x')};
  EXPECT_EQ(round_trip(words), words);
  const std::vector<Point> points{{1, 2, 3}, {4, 5, 6}};
  EXPECT_EQ(round_trip(points), points);
  const std::map<std::string, long> counts{{"x", 1}, {"y", -2}};
  EXPECT_EQ(round_trip(counts), counts);
  const std::unordered_map<int, std::string> names{{1, "one"}, {2, "two"}};
  EXPECT_EQ(round_trip(names), names);
  const std::optional<std::string> some("s"), none;
  EXPECT_EQ(round_trip(some), some);
  EXPECT_EQ(round_trip(none), none);
  const std::tuple<int, std::string, double> t{1, "two", 3.0};
  EXPECT_EQ(round_trip(t), t);
  const std::pair<std::string, std::string> kv{"k", "v"};
  EXPECT_EQ(round_trip(kv), kv);
  const Page page{"http://h/", {"http://h/a", "http://h/b"}};
  EXPECT_EQ(round_trip(page), page);
  const std::vector<Page> pages{page, Page{"u", {}}};
  EXPECT_EQ(round_trip(pages), pages);
}

// The hot loops' writer writes what Writer writes, codecs included, growing past any reserve.
TEST(Wire, CursorWriterWritesWhatWriterWrites) {
  const Page page{"http://h/", {"http://h/a", std::string(300, 'b')}};
  const auto write_all = [&](auto& out) {
    for (std::uint32_t i = 0; i < 500; ++i) {
      out.put(i);
      out.size(i % 7);
      out.bytes("abcdefg", i % 7);
      if (i % 50 == 0) out.put(page);
    }
  };
  std::string plain = "head";
  spmd::wire::Writer writer(plain);
  write_all(writer);
  std::string cursor = "head";
  cursor.reserve(64);
  {
    spmd::wire::CursorWriter out(cursor);
    EXPECT_EQ(out.position(), 4u);
    write_all(out);
    EXPECT_EQ(out.position(), plain.size());
    EXPECT_GE(cursor.size(), plain.size());  // spare bytes past the cursor until finish()
  }
  EXPECT_EQ(cursor, plain);  // the destructor cut it to what was written
  std::string moved;
  {
    spmd::wire::CursorWriter out(cursor);
    out.put(std::uint64_t{1});
    out.finish();
    moved = std::move(cursor);
    cursor = "kept";  // reused before the writer ends: left alone
  }
  EXPECT_EQ(cursor, "kept");
  EXPECT_EQ(moved.size(), plain.size() + sizeof(std::uint64_t));
}

TEST(Wire, TruncatedOrOverlongInputIsAnError) {
  const std::string bytes = spmd::wire::encode(std::vector<std::string>{"abc", "def"});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_THROW((void)spmd::wire::decode<std::vector<std::string>>(bytes.substr(0, cut)),
                 spmd::wire::DecodeError)
        << cut;
  }
  EXPECT_THROW((void)spmd::wire::decode<int>(bytes), spmd::wire::DecodeError);  // bytes left over
  std::string huge_length(8, '\xff');
  EXPECT_THROW((void)spmd::wire::decode<std::string>(huge_length), spmd::wire::DecodeError);
}

// A corrupt count below the old 2^40 guard (a damaged journal) asked for up to 1 TiB before it
// was found out; now any count beyond the bytes that follow is refused before allocating.
TEST(Wire, CountLargerThanTheRestIsRefusedBeforeAllocating) {
  for (const std::uint64_t count :
       {std::uint64_t{1} << 39, std::uint64_t{1} << 30, std::uint64_t{17}}) {
    std::string bytes(sizeof count, '\0');
    std::memcpy(bytes.data(), &count, sizeof count);
    bytes += std::string(16, 'x');  // far fewer bytes than the count claims
    EXPECT_THROW((void)spmd::wire::decode<std::vector<std::string>>(bytes), spmd::wire::DecodeError)
        << count;
    EXPECT_THROW((void)spmd::wire::decode<std::string>(bytes), spmd::wire::DecodeError) << count;
    EXPECT_THROW((void)spmd::wire::decode<std::vector<std::vector<double>>>(bytes), spmd::Error)
        << count;
  }
}

}  // namespace
