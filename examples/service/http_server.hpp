// examples/service/http_server.hpp - the service's HTTP/1.1 server (Boost.Beast over Asio).
//
//   service::Service svc{config};
//   service::HttpServer server{svc, "127.0.0.1", 8080};   // port 0: any free port, see port()
//   ...
//   server.stop();                                        // or let the destructor do it
//
// One thread per connection, blocking reads with an idle timeout, keep-alive. Each request is
// parsed by Beast with a body limit (a larger body gets 400 and the connection is closed) and a
// header limit, handed to Service::handle, and answered with Content-Length. This is the only
// translation unit that includes Beast, to keep the build cheap.
#pragma once

#include "service/service.hpp"

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

namespace service {

struct ServerOptions {
  /// More concurrent connections than this get 503 and are closed.
  std::size_t max_connections = 512;
  /// A keep-alive connection idle this long is closed.
  std::chrono::seconds idle_timeout{30};
  /// Sent as X-Served-By on every response when not empty (which replica answered).
  std::string served_by;
};

class HttpServer {
 public:
  /// Binds and starts accepting at once; throws std::system_error when the address is taken.
  HttpServer(Service& service, const std::string& address, unsigned short port, ServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The port it listens on (the one chosen when constructed with port 0).
  unsigned short port() const noexcept;
  /// Stops accepting, ends every connection, waits for their threads. Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace service
