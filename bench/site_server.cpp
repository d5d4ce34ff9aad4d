// The crawl benchmark's local web site (bench/crawl_python.py): PAGES generated pages at
// /p/<i>.html, each linking to five others, served over HTTP/1.1 with keep-alive on loopback,
// every answer after DELAY seconds (a site some way off; 0: loopback speed). A thread per
// connection, as Python's ThreadingHTTPServer, but in C++: the server is what both crawlers
// wait for, and a server that spends a third of a millisecond of one interpreter per request
// (Python's) is what a benchmark of the crawlers would measure instead of the crawlers (at 0
// delay), or answers a burst of 200 requests 60 ms late (at 50 ms). Prints its port, then
// serves until killed. Anything else than a GET of a page is a 404; no traffic leaves loopback.
//   bench_site_server DELAY_SECONDS PAGES
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace {

// A socket descriptor, closed with its owner.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Socket& operator=(Socket&&) = delete;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "bench_site_server: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Page i: its title and five links (both crawlers must find every page).
std::string page_html(long i, long pages) {
  const long targets[] = {(i * 7 + 1) % pages, (i * 13 + 5) % pages, (i + 1) % pages,
                          (i * 3 + 2) % pages, (i * 31 + 11) % pages};
  std::string html = "<html><head><title>Page " + std::to_string(i) +
                     "</title></head><body><h1>Page " + std::to_string(i) + "</h1><p>";
  for (int k = 0; k < 40; ++k) html += "filler text ";
  html += "</p><ul>";
  for (const long t : targets) {
    html +=
        "<li><a href=\"/p/" + std::to_string(t) + ".html\">page " + std::to_string(t) + "</a></li>";
  }
  return html + "</ul></body></html>";
}

// The page number of "/p/<i>.html", or -1.
long page_of(std::string_view path, long pages) {
  constexpr std::string_view prefix = "/p/", suffix = ".html";
  if (!path.starts_with(prefix) || !path.ends_with(suffix)) return -1;
  const std::string_view digits =
      path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 9) return -1;
  long page = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return -1;
    page = page * 10 + (c - '0');
  }
  return page < pages ? page : -1;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

// One kept-alive connection: requests answered in order until the client closes it.
void serve_connection(Socket connection, std::chrono::duration<double> delay,
                      const std::vector<std::string>& site) {
  const int one = 1;
  ::setsockopt(connection.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string pending;
  char buffer[16384];
  while (true) {
    const std::size_t head_end = pending.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (pending.size() > 65536) return;  // not a request this server answers
      const ssize_t got = ::recv(connection.fd(), buffer, sizeof buffer, 0);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return;
      pending.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    // "GET /path HTTP/1.1": requests have no body here.
    const std::string_view line = std::string_view(pending).substr(0, pending.find("\r\n"));
    const std::size_t path_start = line.find(' ') + 1;
    const std::size_t path_end = line.find(' ', path_start);
    long page = -1;
    if (line.starts_with("GET ") && path_end != std::string_view::npos) {
      page =
          page_of(line.substr(path_start, path_end - path_start), static_cast<long>(site.size()));
    }
    pending.erase(0, head_end + 4);
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    const std::string_view body =
        page >= 0 ? std::string_view(site[static_cast<std::size_t>(page)]) : "not here";
    const std::string answer =
        std::string(page >= 0 ? "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                              : "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\n") +
        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
    if (!write_all(connection.fd(), answer)) return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_site_server DELAY_SECONDS PAGES\n");
    return 2;
  }
  const std::chrono::duration<double> delay(std::strtod(argv[1], nullptr));
  const long pages = std::strtol(argv[2], nullptr, 10);
  if (pages <= 0 || delay.count() < 0) {
    std::fprintf(stderr, "bench_site_server: bad delay or page count\n");
    return 2;
  }
  std::vector<std::string> site;
  for (long i = 0; i < pages; ++i) site.push_back(page_html(i, pages));

  const Socket listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (listener.fd() < 0) fail("socket");
  const int one = 1;
  ::setsockopt(listener.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // loopback only
  address.sin_port = 0;
  if (::bind(listener.fd(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    fail("bind");
  }
  // A deep backlog: a burst of connections is not dropped (a dropped SYN is a 1 s retry).
  if (::listen(listener.fd(), 1024) != 0) fail("listen");
  socklen_t length = sizeof address;
  if (::getsockname(listener.fd(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("getsockname");
  }
  std::printf("%d\n", ntohs(address.sin_port));
  std::fflush(stdout);
  while (true) {
    const int fd = ::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      fail("accept");
    }
    // Detached: a connection's thread ends with the connection; the process, when killed.
    std::thread(serve_connection, Socket(fd), delay, std::cref(site)).detach();
  }
}
