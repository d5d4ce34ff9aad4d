#pragma once
// What the crawler may fetch: hosts and file directories. Pure functions of the URL text (and,
// for file URLs, of the file system), apart from the crawl so that they can be fuzzed alone.
#include <string>
#include <vector>

#include "url.hpp"

namespace crawl {

/// Whether `url`'s host is allowed: an entry "host" allows any port, "host:port" that port.
[[nodiscard]] bool host_allowed(const UrlParts& url, const std::vector<std::string>& allowed);
/// Whether the file a file URL reaches (decoded, dot segments and symbolic links resolved) lies
/// inside one of the directories the `roots` (file URLs of directories) name.
[[nodiscard]] bool file_under_a_root(const std::string& url, const std::vector<std::string>& roots);

}  // namespace crawl
