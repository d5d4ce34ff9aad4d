#pragma once
// Functional decomposition: a pipeline of stages, each stage on its own group of ranks -- the
// book's pipelines (chapter 2), on a cluster.
//
//   spmd::Pipeline pipeline(app.comm());
//   pipeline.source<std::string>("read", [&](spmd::StageContext& s, spmd::Emit<std::string>& out) {
//             for (file : my_share_of(files, s)) out(read(file)); })
//           .stage<std::string, Counts>("tokenise", [](const std::string& text, spmd::Emit<Counts>&
//           out) {
//             out(count_words(text)); })
//           .sink<Counts>("count", [&](const Counts& c) { merge(totals, c); });
//   pipeline.run();   // collective
//
// - Each stage runs on a group of ranks: widths given per stage, or 0 = a share of the ranks left
//   (the source and ordered stages: 1), with a clear error when they do not add up. A source is
//   called once on each of its ranks (StageContext says which part is theirs). With fewer ranks
//   than stages, neighbouring stages are fused onto one rank each (a single rank runs the whole
//   chain) -- results are the same.
// Two words, each for one thing: an *item* is one value a stage receives or emits; a *unit* is
// one item of the source together with everything the stages have made of it so far (a unit is
// what travels, is credited and is ordered).
// - A stage of width > 1 shares its units by demand: each upstream rank sends to the downstream
//   rank with the most free credit; credits return as units are processed, so at most `window`
//   messages are in flight per pair of ranks (back-pressure: a fast source cannot flood a slow
//   stage).
// - Messages carry up to `batch` units: in flight are at most window x batch units per pair.
// - An ordered stage holds units that arrive ahead of their turn; they keep their credit until
//   processed, so one stalled rank upstream holds back the others too -- when its upstream stage
//   is the only wide one before it. After two wide stages in a row, upstream ranks send out of
//   sequence order and waiting units are credited on arrival (or the awaited unit could wait
//   behind a rank without credit): memory then grows with how far those ranks drift apart.
// - Whatever a stage emits for a unit's items goes on together as that unit, so `ordered`
//   stages (width 1) see units in source order (the source must then be one rank).
// - End of stream propagates stage by stage. An exception in any stage ends the run on every rank
//   with the same Error naming the stage, the rank and the cause -- never a hang.
// Items travel through their wire codec (runtime/wire.hpp).
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spmdkit/runtime/comm.hpp"
#include "spmdkit/runtime/error.hpp"
#include "spmdkit/runtime/wire.hpp"

namespace spmd {

/// Where a stage function runs: its stage's name, and this rank's place in the stage's group.
struct StageContext {
  std::string stage;
  int rank_in_stage = 0;
  int width = 1;
};

/// Passes items to the next stage.
template <class T>
class Emit {
 public:
  explicit Emit(std::function<void(std::string)> sink) : sink_(std::move(sink)) {}
  void operator()(const T& item) { sink_(wire::encode(item)); }

 private:
  std::function<void(std::string)> sink_;
};

struct StageOptions {
  int width = 0;         ///< ranks of this stage; 0 = a share of the ranks left over (1 for the
                         ///< source and ordered stages)
  bool ordered = false;  ///< receive units in source order (width 1, one-rank source)
};

struct PipelineOptions {
  int window = 16;           ///< messages in flight per (upstream rank, downstream rank)
  std::uint32_t batch = 64;  ///< units per message at most (small items travel together; a
                             ///< batch leaves early when its rank has nothing else to do)
};

/// What one run did, summed over all ranks.
struct PipelineReport {
  std::vector<std::string> stages;      ///< names, in order
  std::vector<int> widths;              ///< ranks per stage (after fusion: fused stages share)
  std::vector<std::uint64_t> items_in;  ///< items each stage processed
  std::uint64_t source_items = 0;       ///< items the source emitted (one unit each)
  bool fused = false;                   ///< fewer ranks than stages: neighbours were fused
  double seconds = 0;
};

class Pipeline {
 public:
  using Bytes = std::string;
  using EmitBytes = std::function<void(Bytes)>;
  using SourceFn = std::function<void(StageContext&, const EmitBytes&)>;
  using TransformFn = std::function<void(std::string_view, const EmitBytes&)>;

  explicit Pipeline(Comm comm, PipelineOptions options = {});

  /// The first stage: called once on each of its ranks, emits the pipeline's items.
  template <wire::Encodable Out, class Fn>
  requires std::invocable < Fn&, StageContext&, Emit<Out>
  & > Pipeline& source(std::string name, Fn fn, StageOptions options = {}) {
    SourceFn raw = [fn = std::move(fn)](StageContext& context, const EmitBytes& emit) mutable {
      Emit<Out> out(emit);
      fn(context, out);
    };
    add_source(std::move(name), std::move(raw), options);
    return *this;
  }

  /// A middle stage: called for each item; emits any number of items.
  template <wire::Encodable In, wire::Encodable Out, class Fn>
  requires std::invocable < Fn&, const In&, Emit<Out>
  & > Pipeline& stage(std::string name, Fn fn, StageOptions options = {}) {
    TransformFn raw = [fn = std::move(fn)](std::string_view bytes, const EmitBytes& emit) mutable {
      Emit<Out> out(emit);
      fn(wire::decode<In>(bytes), out);
    };
    add_stage(std::move(name), std::move(raw), options, false);
    return *this;
  }

  /// The last stage: called for each item.
  template <wire::Encodable In, class Fn>
  requires std::invocable<Fn&, const In&> Pipeline& sink(std::string name, Fn fn,
                                                         StageOptions options = {}) {
    TransformFn raw = [fn = std::move(fn)](std::string_view bytes, const EmitBytes&) mutable {
      fn(wire::decode<In>(bytes));
    };
    add_stage(std::move(name), std::move(raw), options, true);
    return *this;
  }

  /// Collective: runs the pipeline to the end of the stream. Throws the same Error on every rank
  /// if any stage threw (the failing rank rethrows its own exception).
  PipelineReport run();

  /// The stage (after fusion: the group of stages) this rank runs, as "read" or "read+tokenise".
  [[nodiscard]] std::string my_stage() const;

 private:
  struct Stage {
    std::string name;
    StageOptions options;
    SourceFn source;
    TransformFn transform;
  };
  void add_source(std::string name, SourceFn fn, StageOptions options);
  void add_stage(std::string name, TransformFn fn, StageOptions options, bool sink);

  Comm comm_;
  PipelineOptions options_;
  std::vector<Stage> stages_;
  bool has_sink_ = false;
};

}  // namespace spmd
