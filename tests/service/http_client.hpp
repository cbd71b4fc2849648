// A minimal HTTP/1.1 client on POSIX sockets for the service tests: one connection per request
// (Connection: close), Content-Length bodies. Independent of Beast on purpose: the server under
// test must speak HTTP to a client that is not its own library.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace svctest {

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

/// Sends `raw` (whole requests, as bytes) to 127.0.0.1:port; everything the server sends back
/// until it closes the connection.
inline std::string exchange(unsigned short port, const std::string& raw) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect() to 127.0.0.1:" + std::to_string(port) + " failed");
  }
  std::size_t sent = 0;
  while (sent < raw.size()) {
    const ssize_t n = ::send(fd, raw.data() + sent, raw.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (400) and close before reading everything
    sent += static_cast<std::size_t>(n);
  }
  std::string in;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return in;
}

/// Sends one request and parses the one response.
inline HttpResult send_raw(unsigned short port, const std::string& raw) {
  const std::string in = exchange(port, raw);
  HttpResult r;
  const auto head_end = in.find("\r\n\r\n");
  if (in.compare(0, 9, "HTTP/1.1 ") != 0 || head_end == std::string::npos)
    throw std::runtime_error("not an HTTP response: '" + in.substr(0, 80) + "'");
  r.status = std::stoi(in.substr(9, 3));
  std::size_t pos = in.find("\r\n") + 2;
  while (pos < head_end) {
    const auto eol = in.find("\r\n", pos);
    const std::string line = in.substr(pos, eol - pos);
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.erase(0, 1);
    r.headers[name] = value;
    pos = eol + 2;
  }
  r.body = in.substr(head_end + 4);
  if (auto cl = r.headers.find("content-length"); cl != r.headers.end() && std::stoul(cl->second) != r.body.size())
    throw std::runtime_error("Content-Length " + cl->second + " but " + std::to_string(r.body.size()) + " body bytes");
  return r;
}

/// One request: `host` goes into the Host header; `headers` are added as given.
inline HttpResult http(unsigned short port, const std::string& method, const std::string& target,
                       const std::string& host, const std::vector<std::pair<std::string, std::string>>& headers = {},
                       const std::string& body = "", bool send_body = false) {
  std::string raw = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n";
  for (const auto& [k, v] : headers) raw += k + ": " + v + "\r\n";
  if (!body.empty() || send_body) raw += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  raw += "\r\n" + body;
  return send_raw(port, raw);
}

}  // namespace svctest
