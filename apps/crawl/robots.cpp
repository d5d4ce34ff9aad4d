#include "robots.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

#include <spmdkit/runtime/text.hpp>  // MPI-free: fuzzed without MPI (tests/fuzz)

namespace crawl {

namespace {

std::string trim(std::string_view s) { return std::string(spmd::trim_blanks(s)); }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// '*' matches any run of characters, a final '$' anchors the end; otherwise a prefix match.
bool matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty()) return false;
  const bool anchored = pattern.back() == '$';
  if (anchored) pattern.remove_suffix(1);
  // Backtracking over '*' (patterns are short).
  std::size_t p = 0, s = 0, star = std::string_view::npos, mark = 0;
  while (s < path.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = s;
    } else if (p < pattern.size() && pattern[p] == path[s]) {
      ++p;
      ++s;
    } else if (p == pattern.size() && !anchored) {
      return true;  // prefix matched
    } else if (star != std::string_view::npos) {
      p = star + 1;
      s = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace

RobotsRules::RobotsRules(std::string_view text, std::string_view user_agent) {
  // Groups: one or more User-agent lines, then rules. Ours is the group naming our agent (a
  // case-insensitive substring match of the product token), else the "*" group.
  const std::string agent = lower(std::string(user_agent));
  std::vector<Rule> mine, any;
  bool in_agents = false, group_mine = false, group_any = false, found_mine = false;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string field = lower(trim(std::string_view(line).substr(0, colon)));
    const std::string value = trim(std::string_view(line).substr(colon + 1));
    if (field == "user-agent") {
      if (!in_agents) group_mine = group_any = false;
      in_agents = true;
      const std::string name = lower(value);
      if (name == "*") {
        group_any = true;
      } else if (!name.empty() && agent.find(name) != std::string::npos) {
        group_mine = found_mine = true;
      }
    } else if (field == "allow" || field == "disallow") {
      in_agents = false;
      if (value.empty()) continue;  // "Disallow:" with nothing allows everything
      const Rule rule{value, field == "allow"};
      if (group_mine) mine.push_back(rule);
      if (group_any) any.push_back(rule);
    }
  }
  rules_ = found_mine ? std::move(mine) : std::move(any);
}

bool RobotsRules::allowed(std::string_view path) const {
  const Rule* best = nullptr;
  for (const Rule& rule : rules_) {
    if (!matches(rule.pattern, path)) continue;
    if (best == nullptr || rule.pattern.size() > best->pattern.size() ||
        (rule.pattern.size() == best->pattern.size() && rule.allow)) {
      best = &rule;
    }
  }
  return best == nullptr || best->allow;
}

}  // namespace crawl
