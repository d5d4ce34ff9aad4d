// Pipelines at 1-4 ranks (fused when there are fewer ranks than stages): every item through
// every stage, order kept where asked, back-pressure bounding what is in flight, stages that
// emit several or no items, an early end, and an exception in a middle stage ending the run on
// every rank with the same error.
#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "spmdkit/patterns/pipeline.hpp"
#include "spmdkit/runtime/comm.hpp"
#include "test_support.hpp"

namespace {

using spmd::Emit;
using spmd::StageContext;

TEST(Pipeline, EveryItemThroughEveryStageInOrder) {
  const auto& world = spmd::test::world();
  constexpr int n = 500;
  std::vector<long> seen;
  spmd::Pipeline pipeline(world, {.window = 4});
  pipeline
      .source<int>("numbers",
                   [&](StageContext&, Emit<int>& out) {
                     for (int i = 0; i < n; ++i) out(i);
                   })
      .stage<int, long>("square",
                        [](const int& i, Emit<long>& out) {
                          // Jitter, so that units overtake each other on a wide stage.
                          if (i % 7 == 0)
                            std::this_thread::sleep_for(std::chrono::microseconds(300));
                          out(static_cast<long>(i) * i);
                        })
      .sink<long>("collect", [&](const long& v) { seen.push_back(v); }, {.ordered = true});
  const auto report = pipeline.run();
  EXPECT_EQ(report.source_items, static_cast<std::uint64_t>(n));
  EXPECT_EQ(report.items_in, (std::vector<std::uint64_t>{n, n, n}));
  EXPECT_EQ(report.fused, world.size() < 3);
  // The sink runs on exactly one rank; there, everything arrived in source order.
  const long sinks = world.allreduce(seen.empty() ? 0L : 1L, std::plus<>{});
  EXPECT_EQ(sinks, 1);
  if (!seen.empty()) {
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) EXPECT_EQ(seen[i], static_cast<long>(i) * i);
  }
}

TEST(Pipeline, WideStagesShareByDemandAndOneToManyStages) {
  const auto& world = spmd::test::world();
  std::multiset<int> got;
  std::uint64_t processed_here = 0;
  spmd::Pipeline pipeline(world);
  pipeline
      .source<std::string>("lines",
                           [](StageContext& s, Emit<std::string>& out) {
                             // A wide source: each of its ranks emits its own share.
                             for (int i = s.rank_in_stage; i < 60; i += s.width) {
                               out(std::string(static_cast<std::size_t>(i % 5), 'x'));
                             }
                           },
                           {.width = world.size() >= 4 ? 2 : 0})
      .stage<std::string, int>("split",
                               [&](const std::string& line, Emit<int>& out) {
                                 ++processed_here;
                                 for (std::size_t k = 0; k < line.size(); ++k)
                                   out(static_cast<int>(k));
                               })
      .sink<int>("count", [&](const int& k) { got.insert(k); });
  const auto report = pipeline.run();
  EXPECT_EQ(report.source_items, 60u);
  // Lines of length 0..4, 12 each: 12 * (0 + 1 + 2 + 3 + 4) = 120 items reach the sink.
  EXPECT_EQ(report.items_in[2], 120u);
  const auto total = world.allreduce(static_cast<long>(got.size()), std::plus<>{});
  EXPECT_EQ(total, 120);
  EXPECT_EQ(world.allreduce(static_cast<long>(processed_here), std::plus<>{}), 60);
}

TEST(Pipeline, BackPressureBoundsWhatIsInFlight) {
  const auto& world = spmd::test::world();
  // A fast source, a relay, a slow ordered sink. Credits bound what is in flight: the source can
  // send item i only after the sink has finished item i - bound, with bound = what the credit
  // windows and the relay ranks can hold. (Timestamps: CLOCK_MONOTONIC is one clock for the
  // machine.)
  constexpr int window = 2;
  constexpr int n = 80;
  auto now = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  std::vector<double> sent(n, 0.0), consumed(n, 0.0);
  spmd::Pipeline pipeline(world, {.window = window, .batch = 1});
  pipeline
      .source<int>("fast",
                   [&](StageContext&, Emit<int>& out) {
                     for (int i = 0; i < n; ++i) {
                       out(i);
                       sent[i] = now();
                     }
                   })
      .stage<int, int>("relay",
                       [](const int& i, Emit<int>& out) {
                         // The relay rank with item 0 stalls: the others must not run ahead
                         // of the ordered sink, which waits for item 0 first.
                         if (i == 0) std::this_thread::sleep_for(std::chrono::milliseconds(60));
                         out(i);
                       })
      .sink<int>("slow",
                 [&](const int& i) {
                   std::this_thread::sleep_for(std::chrono::milliseconds(2));
                   consumed[i] = now();
                 },
                 {.ordered = true});
  const auto report = pipeline.run();
  const auto all_sent = world.allreduce(sent, spmd::op::max{});
  const auto all_consumed = world.allreduce(consumed, spmd::op::max{});
  if (world.size() < 2) return;  // one rank runs the stages inline: nothing is in flight
  const int relays = report.fused ? 1 : report.widths[1];
  const int bound = 2 * window * relays + relays + 2;
  for (int i = bound; i < n; ++i) {
    EXPECT_GE(all_sent[i], all_consumed[i - bound]) << "item " << i << " left the source before "
                                                    << "item " << i - bound << " was consumed";
  }
}

TEST(Pipeline, AnExceptionInAMiddleStageEndsTheRunEverywhere) {
  const auto& world = spmd::test::world();
  spmd::Pipeline pipeline(world);
  pipeline
      .source<int>("numbers",
                   [](StageContext&, Emit<int>& out) {
                     for (int i = 0; i < 100000; ++i) out(i);
                   })
      .stage<int, int>("fragile",
                       [](const int& i, Emit<int>& out) {
                         if (i == 50) throw std::runtime_error("item 50 is bad");
                         out(i);
                       })
      .sink<int>("drop", [](const int&) {});
  try {
    (void)pipeline.run();
    ADD_FAILURE() << "the run did not fail";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_TRUE(what.find("item 50 is bad") != std::string::npos) << what;
  }
}

TEST(Pipeline, EarlyEndAndEmptyStreams) {
  const auto& world = spmd::test::world();
  for (const int items : {0, 3}) {
    long got = 0;
    spmd::Pipeline pipeline(world);
    pipeline
        .source<int>("few",
                     [&](StageContext&, Emit<int>& out) {
                       for (int i = 0; i < items; ++i) out(i);
                     })
        .stage<int, int>("none_for_odd",
                         [](const int& i, Emit<int>& out) {
                           if (i % 2 == 0) out(i);  // emits nothing for some items
                         })
        .sink<int>("count", [&](const int&) { ++got; });
    const auto report = pipeline.run();
    EXPECT_EQ(report.source_items, static_cast<std::uint64_t>(items));
    EXPECT_EQ(world.allreduce(got, std::plus<>{}), items == 0 ? 0 : 2);
  }
}

TEST(Pipeline, BadLayoutsAreUsageErrors) {
  const auto& world = spmd::test::world();
  spmd::Pipeline wide(world);
  wide.source<int>("a", [](StageContext&, Emit<int>&) {}, {.width = world.size() + 1})
      .sink<int>("b", [](const int&) {}, {.width = 1});
  if (world.size() >= 2) {
    EXPECT_THROW((void)wide.run(), spmd::UsageError);
  }
  spmd::Pipeline no_sink(world);
  no_sink.source<int>("a", [](StageContext&, Emit<int>&) {});
  EXPECT_THROW((void)no_sink.run(), spmd::UsageError);
}

}  // namespace
