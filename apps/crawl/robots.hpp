#pragma once
// robots.txt (RFC 9309): the rules of the group for our user agent (or "*"); the longest
// matching Allow/Disallow path prefix decides, Allow winning ties; '*' and '$' patterns.
#include <string>
#include <string_view>
#include <vector>

namespace crawl {

class RobotsRules {
 public:
  RobotsRules() = default;  ///< allows everything (no or unreadable robots.txt)
  RobotsRules(std::string_view robots_txt, std::string_view user_agent);
  /// `path` with its query, e.g. "/private/a.html?x=1".
  [[nodiscard]] bool allowed(std::string_view path) const;

 private:
  struct Rule {
    std::string pattern;
    bool allow;
  };
  std::vector<Rule> rules_;
};

}  // namespace crawl
