#include <gtest/gtest.h>

#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/summary.hpp"

namespace {

TEST(Summary, OrderedOneLineJson) {
  spmd::Summary s;
  s.set("name", "heat \"2d\"");
  s.set("steps", 100);
  s.set("ok", true);
  s.set("pi", 3.5);
  s.set("steps", 200);  // replaces, keeps position
  EXPECT_EQ(s.to_json(), R"({"name":"heat \"2d\"","steps":200,"ok":true,"pi":3.5})");
}

TEST(Summary, EmbeddedJsonIsValidated) {
  spmd::Summary s;
  s.set_json("nested", R"({"a": [1, 2]})");
  EXPECT_EQ(s.to_json(), R"({"nested":{"a":[1,2]}})");
  EXPECT_THROW(s.set_json("broken", "{not json"), spmd::Error);
}

TEST(Summary, EmptyIsAnEmptyObject) { EXPECT_EQ(spmd::Summary().to_json(), "{}"); }

}  // namespace
