#include "spmdkit/patterns/pipeline.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <exception>
#include <map>
#include <numeric>
#include <optional>

#include <fmt/format.h>

#include "spmdkit/patterns/detail/messaging.hpp"

// Protocol, on a private duplicate of the communicator:
//   tag_units   upstream -> downstream  u64 seq, u32 n, n x bytes: everything derived from one
//                                       source item, and what this stage made of it
//   tag_credit  downstream -> upstream  u32 k: k more units may be sent
//   tag_end     upstream -> downstream  end of stream from that rank (after all its units)
//   tag_abort   any -> all              a stage threw: stop (payload: the message)
// At the end every rank takes part in one all-reduce that says whether (and where) a stage threw,
// so the run ends the same way everywhere.

namespace spmd {

namespace {

constexpr int tag_units = 1;
constexpr int tag_credit = 2;
constexpr int tag_end = 3;
constexpr int tag_abort = 4;

// Thrown on a rank that learned of another rank's failure.
struct RemoteAbort {};

// The rank layout: stage groups (fused stages share one) and their ranks.
struct Layout {
  std::vector<std::vector<std::size_t>> groups;  // stage indices per group
  std::vector<int> widths;                       // ranks per group
  std::vector<int> first;                        // first rank of each group
  bool fused = false;

  [[nodiscard]] int group_of(int rank) const {
    for (std::size_t g = 0; g + 1 < first.size(); ++g) {
      if (rank < first[g + 1]) return static_cast<int>(g);
    }
    return static_cast<int>(first.size()) - 1;
  }
};

}  // namespace

Pipeline::Pipeline(Comm comm, PipelineOptions options) : comm_(std::move(comm)), options_(options) {
  if (options_.window < 1) throw UsageError("pipeline: window must be at least 1");
  if (options_.batch < 1) throw UsageError("pipeline: batch must be at least 1");
}

void Pipeline::add_source(std::string name, SourceFn fn, StageOptions options) {
  if (!stages_.empty()) throw UsageError("pipeline: the source must be the first stage");
  stages_.push_back({std::move(name), options, std::move(fn), {}});
}

void Pipeline::add_stage(std::string name, TransformFn fn, StageOptions options, bool sink) {
  if (stages_.empty()) throw UsageError("pipeline: add a source before stage '" + name + "'");
  if (has_sink_) throw UsageError("pipeline: stage '" + name + "' after the sink");
  stages_.push_back({std::move(name), options, {}, std::move(fn)});
  has_sink_ = sink;
}

namespace {

// `stages`: the pipeline's stages (each with .name and .options), in order.
template <class Stages>
Layout make_layout(const Stages& all, int ranks) {
  std::vector<StageOptions> options;
  std::vector<std::string> names;
  for (const auto& stage : all) {
    options.push_back(stage.options);
    names.push_back(stage.name);
  }
  const int stages = static_cast<int>(options.size());
  Layout layout;
  for (int s = 0; s < stages; ++s) {
    if (options[s].ordered && options[s].width > 1) {
      throw UsageError(fmt::format("pipeline: ordered stage '{}' must have width 1", names[s]));
    }
    if (options[s].ordered && options[0].width > 1) {
      throw UsageError(fmt::format(
          "pipeline: ordered stage '{}' needs a one-rank source (its order)", names[s]));
    }
  }
  if (ranks < stages) {
    // Fewer ranks than stages: neighbouring stages fused, one group per rank.
    layout.fused = true;
    for (int g = 0; g < ranks; ++g) {
      std::vector<std::size_t> members;
      for (int s = stages * g / ranks; s < stages * (g + 1) / ranks; ++s) members.push_back(s);
      layout.groups.push_back(members);
      layout.widths.push_back(1);
    }
  } else {
    int given = 0, automatic = 0;
    // Automatic widths: 1 for the source (it is called once per rank of its stage: more
    // ranks only help a source that splits its input by rank_in_stage, so that is asked for
    // explicitly) and for ordered stages; the other stages share the rest.
    std::vector<int> widths;
    for (std::size_t s = 0; s < options.size(); ++s) {
      const auto& stage = options[s];
      if (stage.width < 0) throw UsageError("pipeline: a stage width cannot be negative");
      given += stage.width;
      const bool single = s == 0 || stage.ordered;
      automatic += stage.width == 0 && !single ? 1 : 0;
      widths.push_back(stage.width > 0 ? stage.width : (single ? 1 : 0));
    }
    const int fixed = std::accumulate(widths.begin(), widths.end(), 0);
    (void)given;
    if (fixed > ranks || (automatic == 0 && fixed != ranks)) {
      throw UsageError(fmt::format("pipeline: stage widths add up to {} but the job has {} ranks",
                                   fixed, ranks));
    }
    if (automatic > ranks - fixed) {
      throw UsageError(fmt::format("pipeline: {} ranks left for {} stages of automatic width",
                                   ranks - fixed, automatic));
    }
    int left = ranks - fixed, index = 0;
    for (std::size_t s = 0; s < options.size(); ++s) {
      if (widths[s] == 0) {
        widths[s] = left / automatic + (index < left % automatic ? 1 : 0);
        ++index;
      }
      layout.groups.push_back({s});
    }
    layout.widths = widths;
  }
  int at = 0;
  for (const int w : layout.widths) {
    layout.first.push_back(at);
    at += w;
  }
  return layout;
}

// Appends one unit to a message: u64 seq, u32 n, n x bytes.
void append_unit(std::string& message, std::uint64_t seq, const std::vector<std::string>& items) {
  wire::Writer w(message);
  w.put(seq);
  w.put(static_cast<std::uint32_t>(items.size()));
  for (const auto& item : items) {
    w.size(item.size());
    w.bytes(item.data(), item.size());
  }
}

// Units travel in batches: a message holds up to PipelineOptions::batch units or this many bytes,
// and goes when full, when its rank has nothing else to do, or (at a source) when its first unit
// has waited long.
constexpr std::size_t batch_bytes = 64 * 1024;
constexpr auto batch_wait = std::chrono::microseconds(500);

// One rank's part of a run.
class StageRunner {
 public:
  /// What one rank runs: its group's fused stages (a source first, or transforms).
  struct Part {
    int group = 0;
    bool ordered = false;  ///< the first stage takes units in source order
    std::string name;      ///< the fused stages' names, "a+b"
    std::vector<const Pipeline::SourceFn*> sources;
    std::vector<const Pipeline::TransformFn*> chain;
    std::vector<std::size_t> stage_index;  ///< of each stage in chain (or the source) in stages_
  };

  StageRunner(const Comm& comm, const Layout& layout, const PipelineOptions& options, Part part,
              std::vector<std::uint64_t>& items_in)
      : comm_(comm),
        layout_(layout),
        group_(part.group),
        ordered_(part.ordered),
        window_(options.window),
        batch_(options.batch),
        sources_(std::move(part.sources)),
        chain_(std::move(part.chain)),
        name_(std::move(part.name)),
        items_in_(items_in),
        stage_index_(std::move(part.stage_index)),
        sends_(comm) {
    if (group_ + 1 < static_cast<int>(layout_.groups.size())) {
      const int first = layout_.first[group_ + 1];
      for (int d = 0; d < layout_.widths[group_ + 1]; ++d) {
        downstream_.push_back(first + d);
        credit_[first + d] = window_;
      }
    }
    if (group_ > 0) upstream_width_ = layout_.widths[group_ - 1];
    // See unit_processed(): safe when each upstream rank sends in sequence order, which holds
    // when every group before the upstream one is a single rank.
    hold_credit_ = ordered_ && group_ >= 1 &&
                   std::all_of(layout_.widths.begin(), layout_.widths.begin() + (group_ - 1),
                               [](int width) { return width == 1; });
  }

  std::uint64_t run(int rank) {
    if (!sources_.empty()) {
      StageContext context{name_, rank - layout_.first[group_], layout_.widths[group_]};
      const Pipeline::EmitBytes emit = [&](Pipeline::Bytes item) {
        std::vector<std::string> out;
        apply(1, item, out);  // the rest of this rank's fused chain
        ++items_in_[stage_index_[0]];
        queue_unit(units_++, out);
        if (out_count_ > 0 && detail::Clock::now() - out_since_ > batch_wait) flush_out();
      };
      (*sources_.front())(context, emit);
    } else {
      receive_loop();
    }
    flush_out();
    for (const int d : downstream_) sends_.send(d, tag_end, {});
    // Until every send is through; a failure elsewhere (abort) ends the wait.
    detail::Backoff backoff;
    while (!sends_.empty()) {
      sends_.progress();
      if (auto m = comm_.receive_if_arrived(MPI_ANY_SOURCE, tag_abort)) handle_control(*m);
      backoff.idle();
    }
    return units_;
  }

 private:
  // Runs chain_[k..] on `item`, collecting what the last one emits.
  void apply(std::size_t k, std::string_view item, std::vector<std::string>& out) {
    if (k == chain_.size()) {
      out.emplace_back(item);
      return;
    }
    ++items_in_[stage_index_[k]];
    (*chain_[k])(item, [&](Pipeline::Bytes next) { apply(k + 1, next, out); });
  }

  void handle_control(const Message& m) {
    if (m.tag == tag_abort) throw RemoteAbort{};
    if (m.tag == tag_credit)
      credit_[m.source] += static_cast<int>(wire::decode<std::uint32_t>(m.bytes));
  }

  void queue_unit(std::uint64_t seq, const std::vector<std::string>& items) {
    if (downstream_.empty()) return;  // the sink's group: nothing goes further
    if (out_count_ == 0) {
      out_.assign(sizeof(std::uint32_t), '\0');
      out_since_ = detail::Clock::now();
    }
    append_unit(out_, seq, items);
    ++out_count_;
    if (out_count_ >= batch_ || out_.size() >= batch_bytes) flush_out();
  }

  void flush_out() {
    if (out_count_ == 0) return;
    std::memcpy(out_.data(), &out_count_, sizeof out_count_);
    out_count_ = 0;
    send_message(std::move(out_));
    out_.clear();
  }

  void send_message(std::string message) {
    detail::Backoff backoff;
    bool probed = false;
    while (true) {
      // With credit in hand, go; otherwise take in credit (and abort) messages -- units and
      // ends stay queued for the receive loop.
      if (probed || std::none_of(downstream_.begin(), downstream_.end(),
                                 [&](int d) { return credit_[d] > 0; })) {
        while (auto m = comm_.receive_if_arrived(MPI_ANY_SOURCE, tag_credit)) handle_control(*m);
        if (auto m = comm_.receive_if_arrived(MPI_ANY_SOURCE, tag_abort)) handle_control(*m);
      }
      probed = true;
      // The downstream rank with the most free credit: demand decides who gets the work.
      int best = -1;
      for (std::size_t i = 0; i < downstream_.size(); ++i) {
        const int d = downstream_[(next_ + i) % downstream_.size()];
        if (credit_[d] > 0 && (best < 0 || credit_[d] > credit_[best])) best = d;
      }
      if (best >= 0) {
        --credit_[best];
        next_ = (next_ + 1) % downstream_.size();
        sends_.send(best, tag_units, std::move(message));
        sends_.progress();
        return;
      }
      flush_credits();  // our upstream must never wait on credits we are holding back
      backoff.idle();
    }
  }

  void return_credit(int upstream, bool force) {
    int& owed = owed_[upstream];
    if (owed == 0 || (!force && owed < std::max(1, window_ / 2))) return;
    sends_.send(upstream, tag_credit, wire::encode(static_cast<std::uint32_t>(owed)));
    owed = 0;
  }
  void flush_credits() {
    for (auto& [upstream, owed] : owed_) {
      if (owed > 0) return_credit(upstream, true);
    }
  }

  // One unit: its items through this rank's chain, the results on as one unit.
  void process_unit(std::uint64_t seq, wire::Reader& in) {
    const auto count = in.get<std::uint32_t>();
    std::vector<std::string> out;
    for (std::uint32_t i = 0; i < count; ++i) apply(0, in.view(in.size()), out);
    ++units_;
    queue_unit(seq, out);
  }

  // The length of the unit starting at `in`'s position (seq already read), skipping it.
  static std::size_t skip_unit(wire::Reader& in) {
    const std::size_t before = in.remaining();
    const auto count = in.get<std::uint32_t>();
    for (std::uint32_t i = 0; i < count; ++i) (void)in.view(in.size());
    return before - in.remaining();
  }

  // Credit is returned for a message once every unit of it has been processed. An ordered stage
  // holds units that arrived ahead of their turn (from a wider stage before it); those are still
  // in flight, so their credit waits too (hold_credit_) -- otherwise one stalled rank upstream
  // lets the others run ahead without bound. That cannot deadlock when each upstream rank sends
  // in sequence order (everything before the stage upstream is one rank wide): the unit whose
  // turn it is comes from a rank all of whose earlier units were processed, their credit
  // returned. After two wide stages in a row upstream ranks send out of order, a rank could sit
  // on the awaited unit without credit, so there the units waiting for their turn are credited
  // on arrival (they are bounded by how far the upstream ranks drift apart).
  struct Arrival {
    int source = -1;
    std::uint32_t units_left = 0;
  };

  void unit_processed(std::uint64_t arrival_id) {
    const auto it = arrivals_.find(arrival_id);
    if (--it->second.units_left > 0) return;
    const int source = it->second.source;
    arrivals_.erase(it);
    ++owed_[source];
    return_credit(source, false);
  }

  void receive_loop() {
    struct Waiting {
      std::string bytes;
      std::optional<std::uint64_t> arrival;  // credited when processed (hold_credit_)
    };
    std::map<std::uint64_t, Waiting> waiting;  // ordered: units by seq
    std::uint64_t next_seq = 0;
    std::uint64_t next_arrival = 0;
    int ends = 0;
    detail::Backoff backoff;
    while (ends < upstream_width_ || !waiting.empty()) {
      auto m = comm_.receive_if_arrived();
      if (!m) {
        if (ends == upstream_width_ && !waiting.empty()) {
          throw Error(
              fmt::format("pipeline: unit {} never arrived at stage '{}'", next_seq, name_));
        }
        // Nothing to do: what is batched goes now, and so does every credit owed.
        flush_out();
        flush_credits();
        sends_.progress();
        backoff.idle();
        continue;
      }
      backoff.reset();
      if (m->tag == tag_units) {
        wire::Reader in(m->bytes);
        const auto units = in.get<std::uint32_t>();
        // The message's credit waits for its held units (none unless hold_credit_) and for the
        // end of this loop; units processed here need no count.
        const std::uint64_t arrival = next_arrival++;
        arrivals_.emplace(arrival, Arrival{m->source, 1});
        for (std::uint32_t u = 0; u < units; ++u) {
          const auto seq = in.get<std::uint64_t>();
          if (!ordered_) {
            process_unit(seq, in);
            continue;
          }
          const std::size_t at = m->bytes.size() - in.remaining();
          const std::size_t length = skip_unit(in);
          std::optional<std::uint64_t> credited_when_processed;
          if (hold_credit_) {
            ++arrivals_.at(arrival).units_left;
            credited_when_processed = arrival;
          }
          waiting.emplace(seq, Waiting{m->bytes.substr(at, length), credited_when_processed});
          for (auto it = waiting.find(next_seq); it != waiting.end(); it = waiting.find(next_seq)) {
            wire::Reader unit(it->second.bytes);
            process_unit(next_seq, unit);
            const std::optional<std::uint64_t> of = it->second.arrival;
            waiting.erase(it);
            ++next_seq;
            if (of) unit_processed(*of);
          }
        }
        unit_processed(arrival);
      } else if (m->tag == tag_end) {
        ++ends;
      } else {
        handle_control(*m);
      }
    }
  }

  Comm comm_;
  const Layout& layout_;
  int group_;
  bool ordered_;              // this rank's first stage receives units in source order
  bool hold_credit_ = false;  // units waiting for their turn keep their credit (see above)
  int window_;
  std::uint32_t batch_;
  std::vector<const Pipeline::SourceFn*> sources_;
  std::vector<const Pipeline::TransformFn*> chain_;
  std::string name_;
  std::vector<std::uint64_t>& items_in_;
  std::vector<std::size_t> stage_index_;
  detail::SendQueue sends_;
  std::vector<int> downstream_;
  std::map<int, int> credit_;
  std::map<int, int> owed_;
  std::map<std::uint64_t, Arrival> arrivals_;  // messages with units not yet processed
  std::size_t next_ = 0;
  std::string out_;              // the message being batched
  std::uint32_t out_count_ = 0;  // units in it
  detail::Clock::time_point out_since_{};
  int upstream_width_ = 0;
  std::uint64_t units_ = 0;
};

}  // namespace

std::string Pipeline::my_stage() const {
  const int rank = comm_.rank();
  const Layout layout = make_layout(stages_, comm_.size());
  std::string name;
  for (const std::size_t s : layout.groups[layout.group_of(rank)]) {
    name += (name.empty() ? "" : "+") + stages_[s].name;
  }
  return name;
}

PipelineReport Pipeline::run() {
  if (stages_.empty() || !stages_.front().source) throw UsageError("pipeline: no source stage");
  if (!has_sink_) throw UsageError("pipeline: no sink stage");
  const Comm comm = comm_.duplicate();
  const int rank = comm.rank();
  const Layout layout = make_layout(stages_, comm.size());
  const int group = layout.group_of(rank);

  StageRunner::Part part{.group = group};
  for (const std::size_t s : layout.groups[group]) {
    if (stages_[s].source) {
      part.sources.push_back(&stages_[s].source);
      part.chain.push_back(nullptr);  // placeholder: the source is chain position 0
    } else {
      part.chain.push_back(&stages_[s].transform);
    }
    part.stage_index.push_back(s);
    part.ordered =
        part.ordered || (stages_[s].options.ordered && s == layout.groups[group].front());
    part.name += (part.name.empty() ? "" : "+") + stages_[s].name;
  }
  const std::string name = part.name;

  std::vector<std::uint64_t> items_in(stages_.size(), 0);
  const auto start = detail::Clock::now();
  std::uint64_t units = 0;
  std::exception_ptr failure;
  std::string message;
  bool origin = false;
  try {
    StageRunner runner(comm, layout, options_, std::move(part), items_in);
    units = runner.run(rank);
  } catch (const RemoteAbort&) {
    // Another rank failed; its message arrives below.
  } catch (const std::exception& e) {
    failure = std::current_exception();
    origin = true;
    message = fmt::format("pipeline stage '{}' failed on rank {}: {}", name, rank, e.what());
  } catch (...) {
    failure = std::current_exception();
    origin = true;
    message = fmt::format("pipeline stage '{}' failed on rank {}: unknown exception", name, rank);
  }
  if (origin) {
    // Small and eager, and nobody may ever receive them: handed to MPI at once.
    for (int r = 0; r < comm.size(); ++r) {
      if (r != rank) comm.isend_bytes(r, tag_abort, {}).release();
    }
  }
  // Everyone arrives here: the same error everywhere (the first failing rank's, naming the
  // stage; bad input stays a UsageError), or none.
  comm.throw_first_failure(failure, std::move(message));

  PipelineReport report;
  for (const auto& stage : stages_) report.stages.push_back(stage.name);
  report.fused = layout.fused;
  for (std::size_t s = 0; s < stages_.size(); ++s) {
    for (std::size_t g = 0; g < layout.groups.size(); ++g) {
      const auto& members = layout.groups[g];
      if (std::find(members.begin(), members.end(), s) != members.end()) {
        report.widths.push_back(layout.widths[g]);
      }
    }
  }
  report.items_in = items_in;
  comm.allreduce_in_place(std::span<std::uint64_t>(report.items_in), std::plus<>{});
  report.source_items = comm.allreduce(group == 0 ? units : std::uint64_t{0}, std::plus<>{});
  const double seconds = std::chrono::duration<double>(detail::Clock::now() - start).count();
  report.seconds = comm.allreduce(seconds, op::max{});
  return report;
}

}  // namespace spmd
