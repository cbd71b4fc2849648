// examples/service/http_server.cpp - Boost.Beast (synchronous) HTTP/1.1 server; see http_server.hpp.
#include "service/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace service {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t header_limit = 16 * 1024;

void send(tcp::socket& socket, const Response& r, unsigned version, bool keep_alive, const std::string& served_by) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tenantry-service");
  if (!r.body.empty()) res.set(http::field::content_type, "application/json");
  if (!served_by.empty()) res.set("X-Served-By", served_by);
  for (const Header& h : r.headers) res.set(h.name, h.value);
  res.body() = r.body;
  res.keep_alive(keep_alive);
  res.prepare_payload();
  beast::error_code ec;
  http::write(socket, res, ec);
}

Response plain_error(int status, const char* code, const std::string& message) {
  return Response{status, std::string(R"({"error":{"code":")") + code + R"(","message":")" + message + "\"}}", {}};
}

}  // namespace

struct HttpServer::Impl {
  Service& service;
  ServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable idle;
  std::map<std::uint64_t, tcp::socket*> connections;
  std::uint64_t next_id = 0;
  bool stopped = false;
  unsigned short bound_port = 0;

  Impl(Service& s, const std::string& address, unsigned short port, ServerOptions o)
      : service(s), options(std::move(o)), acceptor(ioc) {
    const tcp::endpoint ep(net::ip::make_address(address), port);
    acceptor.open(ep.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(ep);
    acceptor.listen(net::socket_base::max_listen_connections);
    bound_port = acceptor.local_endpoint().port();
    accept_thread = std::thread([this] { accept_loop(); });
  }

  void accept_loop() {
    while (!stopping) {
      // poll with a timeout, so stop() never depends on waking a blocked accept().
      pollfd p{acceptor.native_handle(), POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      beast::error_code ec;
      tcp::socket socket(ioc);
      acceptor.accept(socket, ec);
      if (ec) continue;
      std::unique_lock lock(mutex);
      if (stopping) break;
      if (connections.size() >= options.max_connections) {
        lock.unlock();
        send(socket, plain_error(503, "unavailable", "too many connections"), 11, false, options.served_by);
        continue;
      }
      const std::uint64_t id = next_id++;
      auto* owned = new tcp::socket(std::move(socket));
      connections.emplace(id, owned);
      lock.unlock();
      std::thread([this, id, owned] {
        session(*owned);
        std::lock_guard g(mutex);
        connections.erase(id);
        delete owned;
        idle.notify_all();
      }).detach();
    }
  }

  void session(tcp::socket& socket) {
    timeval tv{static_cast<time_t>(options.idle_timeout.count()), 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    beast::flat_buffer buffer;
    const std::size_t max_body = service.config().max_body_bytes;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(header_limit);
      parser.body_limit(max_body);
      http::read(socket, buffer, parser, ec);
      if (ec == http::error::end_of_stream || ec == net::error::eof || ec == net::error::connection_reset) break;
      if (ec == http::error::body_limit) {
        send(socket, plain_error(400, "body_too_large", "request body exceeds the limit of " + std::to_string(max_body) + " bytes"),
             parser.is_header_done() ? parser.get().version() : 11, false, options.served_by);
        break;
      }
      if (ec == http::error::header_limit) {
        send(socket, plain_error(431, "headers_too_large", "request headers are too large"), 11, false, options.served_by);
        break;
      }
      if (ec) {
        // A timeout, a closed socket, or a request that is not HTTP: answer what can be answered.
        if (ec.category() == http::make_error_code(http::error::bad_target).category())
          send(socket, plain_error(400, "bad_request", "malformed HTTP request"), 11, false, options.served_by);
        break;
      }
      auto& msg = parser.get();
      Request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      for (const auto& f : msg) req.headers.push_back({std::string(f.name_string()), std::string(f.value())});
      req.body = std::move(msg.body());
      const bool keep_alive = msg.keep_alive();
      const Response res = service.handle(std::move(req));
      send(socket, res, msg.version(), keep_alive && !stopping, options.served_by);
      if (!keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  void stop() {
    std::unique_lock lock(mutex);
    if (stopped) return;
    stopped = true;
    stopping = true;
    lock.unlock();
    if (accept_thread.joinable()) accept_thread.join();
    beast::error_code ec;
    acceptor.close(ec);
    lock.lock();
    // Wake every connection thread blocked in a read; each removes itself when it ends.
    for (auto& [id, s] : connections) ::shutdown(s->native_handle(), SHUT_RDWR);
    idle.wait(lock, [&] { return connections.empty(); });
  }
};

HttpServer::HttpServer(Service& service, const std::string& address, unsigned short port, ServerOptions options)
    : impl_(std::make_unique<Impl>(service, address, port, std::move(options))) {}

HttpServer::~HttpServer() { stop(); }

unsigned short HttpServer::port() const noexcept { return impl_->bound_port; }

void HttpServer::stop() { impl_->stop(); }

}  // namespace service
