// Bytes made safe for JSON and for messages (runtime/text.hpp).
#include <string>

#include <gtest/gtest.h>

#include "spmdkit/runtime/summary.hpp"
#include "spmdkit/runtime/text.hpp"

namespace {

using namespace std::string_literals;

TEST(JsonQuote, PassesValidUtf8AndEscapesWhatJsonRequires) {
  EXPECT_EQ(spmd::json_quote("plain"), R"("plain")");
  EXPECT_EQ(spmd::json_quote("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(spmd::json_quote("tab\there\nnext"), R"("tab\there\nnext")");
  EXPECT_EQ(spmd::json_quote("\x01\x1b[31m"s), R"("\u0001\u001b[31m")");
  EXPECT_EQ(spmd::json_quote("Ș ț ỹ Ґ 𝔘"), "\"Ș ț ỹ Ґ 𝔘\"");
  EXPECT_EQ(spmd::json_quote("nul\0in"s), R"("nul\u0000in")");
}

TEST(JsonQuote, InvalidBytesBecomeSurrogateEscapes) {
  // Python: os.fsencode(json.loads(text)) gives the bytes back.
  EXPECT_EQ(spmd::json_quote("\xff.h5"), R"("\udcff.h5")");
  EXPECT_EQ(spmd::json_quote("caf\xe9"), R"("caf\udce9")");                          // Latin-1 é
  EXPECT_EQ(spmd::json_quote("\xc3"), R"("\udcc3")");                                // cut sequence
  EXPECT_EQ(spmd::json_quote("\xc0\xaf"), R"("\udcc0\udcaf")");                      // overlong '/'
  EXPECT_EQ(spmd::json_quote("\xed\xa0\x80"), R"("\udced\udca0\udc80")");            // a surrogate
  EXPECT_EQ(spmd::json_quote("\xf4\x90\x80\x80"), R"("\udcf4\udc90\udc80\udc80")");  // > U+10FFFF
}

TEST(JsonDump, NestedValuesWithAnyBytes) {
  nlohmann::ordered_json value;
  value["path"] = "\xff/x";
  value["list"] = {1, "two", nullptr, true};
  value["caf\xe9"] = 2.5;
  EXPECT_EQ(spmd::json_dump(value),
            R"({"path":"\udcff/x","list":[1,"two",null,true],"caf\udce9":2.5})");
}

TEST(Summary, CarriesNonUtf8Values) {
  spmd::Summary summary;
  summary.set("output", "\xff.h5");
  nlohmann::ordered_json names = nlohmann::ordered_json::array({"d\xe9j\xe0"});
  summary.set_json_value("names", names);
  EXPECT_EQ(summary.to_json(), R"({"output":"\udcff.h5","names":["d\udce9j\udce0"]})");
}

TEST(Printable, EscapesControlAndInvalidBytes) {
  EXPECT_EQ(spmd::printable("ok é"), "ok é");
  EXPECT_EQ(spmd::printable("\x1b[2J\x07"), "\\x1b[2J\\x07");
  EXPECT_EQ(spmd::printable("a\nb\tc"), "a b c");
  EXPECT_EQ(spmd::printable("\xff\xfe"), "\\xff\\xfe");
}

TEST(Printable, CutsLongTextsInTheMiddle) {
  const std::string line = "start " + std::string(5'000'000, 'x') + " end";
  const std::string shown = spmd::printable(line, 2000);
  EXPECT_LE(shown.size(), 2000U);
  EXPECT_TRUE(shown.starts_with("start ")) << shown.substr(0, 20);
  EXPECT_TRUE(shown.ends_with(" end"));
  EXPECT_NE(shown.find("bytes cut"), std::string::npos);
  // Never half a character: cut through a run of 2-byte characters.
  const std::string accents = std::string(3000, 'a') + [] {
    std::string s;
    for (int i = 0; i < 2000; ++i) s += "é";
    return s;
  }();
  const std::string cut = spmd::printable(accents, 2000);
  EXPECT_EQ(spmd::printable(cut, 1'000'000), cut);  // valid UTF-8: nothing to escape
}

}  // namespace
