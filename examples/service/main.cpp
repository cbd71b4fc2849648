// examples/service/main.cpp - tenantry-service: the reference multi-tenant HTTP service and its
// administration commands (the service itself has no admin endpoints).
//
//   tenantry-service serve [--address A] [--port N] [--port-file F] [--init] [--served-by NAME]
//   tenantry-service init                              create the schema (IF NOT EXISTS)
//   tenantry-service create-org SLUG NAME [SECRET]     an org with its own data key
//   tenantry-service issue-token SLUG USER ROLE        prints a bearer token (role: user,
//                                                      power_user, manager, admin)
//   tenantry-service set-org-status SLUG STATUS        active | suspended | deleted
//   tenantry-service rotate-key SLUG                   re-seal the org's secrets under a new key
//   tenantry-service generate-platform-key             prints a new platform key (64 hex digits)
//
// Configuration from the environment: DATABASE_URL (default sqlite:tenantry-service.db),
// BODHI_ORG_DOMAIN (default localhost), TENANTRY_PLATFORM_KEY or TENANTRY_PLATFORM_KEY_FILE,
// DATABASE_POOL_SIZE, SERVICE_ORG_CACHE_TTL_MS, SERVICE_MAX_BODY_BYTES. Exit status: 0 ok,
// 1 failure, 2 usage.
#include "service/http_server.hpp"
#include "service/service.hpp"

#include <tenantry/encrypted.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: tenantry-service serve [--address A] [--port N] [--port-file F] [--init] [--served-by NAME]\n"
               "       tenantry-service init | create-org SLUG NAME [SECRET] | issue-token SLUG USER ROLE\n"
               "       tenantry-service set-org-status SLUG STATUS | rotate-key SLUG | generate-platform-key\n");
  return 2;
}

int serve(std::vector<std::string> args) {
  std::string address = "127.0.0.1", port_file, served_by;
  unsigned long port = 8080;
  bool init = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw std::runtime_error(args[i] + " needs a value");
      return args[++i];
    };
    if (args[i] == "--address") address = value();
    else if (args[i] == "--port") port = std::stoul(value());
    else if (args[i] == "--port-file") port_file = value();
    else if (args[i] == "--served-by") served_by = value();
    else if (args[i] == "--init") init = true;
    else return usage();
  }
  if (port > 65535) return usage();
  // SIGINT/SIGTERM are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  service::Config config = service::Config::from_environment();
  config.init_schema = init;
  service::Service svc(config);
  service::HttpServer server(svc, address, static_cast<unsigned short>(port), {.served_by = served_by});
  std::fprintf(stderr, "tenantry-service: listening on %s:%u (orgs at <slug>.%s)\n", address.c_str(), server.port(),
               config.org_domain.c_str());
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  int sig = 0;
  sigwait(&signals, &sig);
  std::fprintf(stderr, "tenantry-service: signal %d, stopping\n", sig);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  const std::string cmd = args.front();
  args.erase(args.begin());
  try {
    if (cmd == "serve") return serve(args);
    if (cmd == "generate-platform-key") {
      std::printf("%s\n", tenantry::PlatformKey::generate().to_text().c_str());
      return 0;
    }
    service::Service svc(service::Config::from_environment());
    if (cmd == "init" && args.empty()) {
      svc.init_schema();
    } else if (cmd == "create-org" && (args.size() == 2 || args.size() == 3)) {
      const auto o = svc.create_org(args[0], args[1], args.size() == 3 ? args[2] : "secret-of-" + args[0]);
      std::printf("%s %s\n", o.id.c_str(), o.slug.c_str());
    } else if (cmd == "issue-token" && args.size() == 3) {
      service::Role role = service::Role::user;
      bool known = false;
      for (auto r : {service::Role::user, service::Role::power_user, service::Role::manager, service::Role::admin})
        if (args[2] == service::role_name(r)) role = r, known = true;
      if (!known) return usage();
      std::printf("%s\n", svc.issue_token(args[0], args[1], role).token.c_str());
    } else if (cmd == "set-org-status" && args.size() == 2) {
      svc.set_org_status(args[0], args[1]);
    } else if (cmd == "rotate-key" && args.size() == 1) {
      const auto r = svc.rotate_org_key(args[0]);
      std::printf("rotated %s: key version %lld -> %lld, %zu values re-sealed\n", args[0].c_str(),
                  static_cast<long long>(r.old_version), static_cast<long long>(r.new_version), r.resealed);
    } else {
      return usage();
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tenantry-service: %s\n", e.what());
    return 1;
  }
}
