// TLS on the edge over real sockets on 127.0.0.1: a self-signed certificate made here with
// OpenSSL's C API, a Beast TLS client, a plain-HTTP client refused on the TLS port, and the
// refusals of a bad certificate or key at start and in the settings.
#include "config/load.hpp"
#include "http/problem.hpp"
#include "http/routes/health.hpp"
#include "http/server.hpp"
#include "http/sse.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/temp_dir.hpp"

#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace souk::http {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace net = boost::asio;
namespace beast = boost::beast;
namespace ssl = net::ssl;

/// A PEM certificate and its private key.
struct key_pair {
  std::string cert_pem;
  std::string key_pem;
};

std::string pem_of(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

/// A self-signed P-256 certificate for 127.0.0.1, valid from now for a day.
key_pair make_self_signed() {
  key_pair out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr)
    return out;
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86'400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    if (X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value)) {
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
  }
  if (X509_sign(cert, key, EVP_sha256()) > 0) {
    BIO* cert_bio = BIO_new(BIO_s_mem());
    BIO* key_bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(cert_bio, cert);
    PEM_write_bio_PrivateKey(key_bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    out.cert_pem = pem_of(cert_bio);
    out.key_pem = pem_of(key_bio);
    BIO_free(cert_bio);
    BIO_free(key_bio);
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return out;
}

std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
  return path;
}

/// A response read by the TLS client.
struct tls_reply {
  unsigned status = 0;
  std::string body;
  bool keep_alive = false;
};

/// A Beast TLS client that trusts only `cert_pem`.
class tls_client {
public:
  tls_client(std::uint16_t port, const std::string& cert_pem)
      : ctx_(ssl::context::tls_client), stream_(ioc_, ctx_) {
    ctx_.add_certificate_authority(net::buffer(cert_pem), ec_);
    ctx_.set_verify_mode(ssl::verify_peer);
    if (ec_)
      return;
    beast::get_lowest_layer(stream_).expires_after(5s);
    beast::get_lowest_layer(stream_).connect(
        net::ip::tcp::endpoint{net::ip::make_address("127.0.0.1"), port}, ec_);
    if (!ec_)
      stream_.handshake(ssl::stream_base::client, ec_);
  }

  beast::error_code error() const { return ec_; }

  std::optional<tls_reply> get(const std::string& target) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    beast::get_lowest_layer(stream_).expires_after(5s);
    bhttp::write(stream_, req, ec_);
    if (ec_)
      return std::nullopt;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream_, buffer_, res, ec_);
    if (ec_)
      return std::nullopt;
    return tls_reply{res.result_int(), res.body(), res.keep_alive()};
  }

  /// Sends a GET and reads raw decrypted bytes until `needle` shows up.
  bool stream_until(const std::string& target, const std::string& needle, std::string& got) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    beast::get_lowest_layer(stream_).expires_after(5s);
    bhttp::write(stream_, req, ec_);
    while (!ec_ && got.find(needle) == std::string::npos) {
      char chunk[1024];
      auto n = stream_.read_some(net::buffer(chunk), ec_);
      got.append(chunk, n);
    }
    return got.find(needle) != std::string::npos;
  }

private:
  net::io_context ioc_;
  ssl::context ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
  beast::error_code ec_;
};

class ServerTlsTest : public ::testing::Test {
protected:
  ServerTlsTest() {
    pair_ = make_self_signed();
    settings_.listen = {"127.0.0.1", 0};
    settings_.threads = 2;
    settings_.read_timeout = 2s;
    settings_.idle_timeout = 5s;
    settings_.drain_timeout = 2s;
    settings_.tls_cert_file = write_file(dir_.path() + "/cert.pem", pair_.cert_pem);
    settings_.tls_key_file = write_file(dir_.path() + "/key.pem", pair_.key_pem);
    add_health_routes(routes_, "tls1", [] { return readiness{true, {}}; });
    routes_.add(bhttp::verb::get, "/events", [](const request_context& ctx, responder) {
      auto s = ctx.open_stream();
      s->send(format_sse_event("over tls", "hello", "1"));
      s->close();
    });
  }

  void start() {
    server_ = std::make_unique<server>(settings_, routes_);
    ASSERT_EQ(server_->start(), "");
  }

  /// The error `start` gives for the current settings.
  std::string start_error() {
    server s{settings_, routes_};
    return s.start();
  }

  test::temp_dir dir_;
  key_pair pair_;
  config::http_settings settings_;
  router routes_;
  std::unique_ptr<server> server_;
};

TEST_F(ServerTlsTest, TheCertificateIsGenerated) {
  EXPECT_NE(pair_.cert_pem.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_NE(pair_.key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST_F(ServerTlsTest, TlsClientGets200AndKeepAliveWorks) {
  start();
  tls_client client{server_->port(), pair_.cert_pem};
  ASSERT_FALSE(client.error()) << client.error().message();
  for (int i = 0; i < 3; ++i) {
    auto reply = client.get("/healthz");
    ASSERT_TRUE(reply) << client.error().message();
    EXPECT_EQ(reply->status, 200U);
    EXPECT_TRUE(reply->keep_alive);
    EXPECT_EQ(json::parse(reply->body)["node"], "tls1");
  }
  auto missing = client.get("/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404U);
  EXPECT_EQ(json::parse(missing->body)["code"], "not_found");
  EXPECT_EQ(server_->stats().connections_accepted, 1U);
  EXPECT_EQ(server_->stats().requests, 4U);
}

TEST_F(ServerTlsTest, EventStreamWorksOverTls) {
  start();
  tls_client client{server_->port(), pair_.cert_pem};
  ASSERT_FALSE(client.error()) << client.error().message();
  std::string got;
  EXPECT_TRUE(client.stream_until("/events", "data: over tls\n\n", got)) << got;
  EXPECT_NE(got.find("Content-Type: text/event-stream"), std::string::npos) << got;
}

TEST_F(ServerTlsTest, PlainHttpOnTheTlsPortIsRefusedAndTheServerCarriesOn) {
  start();
  test::http_connection plain{server_->port()};
  ASSERT_TRUE(plain.connected());
  auto reply = plain.round_trip(test::make_request("GET", "/healthz"));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_EQ(reply->header("content-type"), "application/problem+json");
  EXPECT_EQ(json::parse(reply->body)["code"], "tls_required");
  EXPECT_TRUE(plain.wait_closed(2s));
  // Garbage that is not HTTP either is just closed.
  test::http_connection garbage{server_->port()};
  ASSERT_TRUE(garbage.connected());
  ASSERT_TRUE(garbage.send_all(std::string("\x16\x03\x01\x00\x05hello", 10)));
  EXPECT_TRUE(garbage.wait_closed(3s));
  // TLS clients are still served.
  tls_client client{server_->port(), pair_.cert_pem};
  ASSERT_FALSE(client.error()) << client.error().message();
  auto ok = client.get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200U);
  EXPECT_EQ(server_->stats().tls_refused, 2U);
}

TEST_F(ServerTlsTest, SilentClientIsClosedAfterTheReadTimeout) {
  settings_.read_timeout = 300ms;
  start();
  test::http_connection silent{server_->port()};
  ASSERT_TRUE(silent.connected());
  auto began = std::chrono::steady_clock::now();
  EXPECT_TRUE(silent.wait_closed(3s));
  EXPECT_GE(std::chrono::steady_clock::now() - began, 250ms);
}

TEST_F(ServerTlsTest, StopClosesTlsConnectionsPromptly) {
  start();
  tls_client client{server_->port(), pair_.cert_pem};
  ASSERT_TRUE(client.get("/healthz"));
  auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->stop(2s), 0U);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
}

TEST_F(ServerTlsTest, MissingCertificateFileIsRefusedNamingTheSettingAndFile) {
  settings_.tls_cert_file = dir_.path() + "/nope.pem";
  auto err = start_error();
  EXPECT_NE(err.find("http.tls_cert_file"), std::string::npos) << err;
  EXPECT_NE(err.find("nope.pem"), std::string::npos) << err;
  EXPECT_NE(err.find("No such file"), std::string::npos) << err;
}

TEST_F(ServerTlsTest, UnreadableKeyFileIsRefused) {
  settings_.tls_key_file = dir_.path(); // a folder
  auto err = start_error();
  EXPECT_NE(err.find("http.tls_key_file"), std::string::npos) << err;
  EXPECT_NE(err.find("cannot read"), std::string::npos) << err;
}

TEST_F(ServerTlsTest, FileThatIsNotPemIsRefused) {
  settings_.tls_cert_file = write_file(dir_.path() + "/junk.pem", "not a certificate\n");
  auto err = start_error();
  EXPECT_NE(err.find("http.tls_cert_file"), std::string::npos) << err;
  EXPECT_NE(err.find("not a PEM certificate"), std::string::npos) << err;
  settings_.tls_cert_file = dir_.path() + "/cert.pem";
  settings_.tls_key_file = write_file(dir_.path() + "/junk-key.pem", pair_.cert_pem);
  err = start_error();
  EXPECT_NE(err.find("http.tls_key_file"), std::string::npos) << err;
  EXPECT_NE(err.find("not a PEM private key"), std::string::npos) << err;
}

TEST_F(ServerTlsTest, KeyThatDoesNotMatchTheCertificateIsRefused) {
  auto other = make_self_signed();
  settings_.tls_key_file = write_file(dir_.path() + "/other-key.pem", other.key_pem);
  auto err = start_error();
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;
  EXPECT_NE(err.find("other-key.pem"), std::string::npos) << err;
}

TEST_F(ServerTlsTest, OnlyOneOfCertAndKeyIsRefused) {
  settings_.tls_key_file.clear();
  auto err = start_error();
  EXPECT_NE(err.find("go together"), std::string::npos) << err;
}

TEST(TlsSettings, CertWithoutKeyIsRefusedByTheSettings) {
  auto r = config::load({"soukd", "--http-tls-cert-file", "/etc/souk/cert.pem"}, {});
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_NE(r.errors[0].find("http.tls_cert_file and http.tls_key_file go together"),
            std::string::npos)
      << r.errors[0];
  EXPECT_EQ(r.exit_code, 2);
}

TEST(TlsSettings, BothFromTheEnvironmentAreAcceptedAndPrinted) {
  auto r = config::load({"soukd", "--print-config"}, {{"SOUK_HTTP_TLS_CERT_FILE", "/c.pem"},
                                                      {"SOUK_HTTP_TLS_KEY_FILE", "/k.pem"},
                                                      {"SOUK_HTTP_SSE_HEARTBEAT_MS", "5000"},
                                                      {"SOUK_HTTP_SSE_MAX_QUEUED_BYTES", "4096"}});
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  EXPECT_EQ(r.values.http.tls_cert_file, "/c.pem");
  EXPECT_EQ(r.values.http.tls_key_file, "/k.pem");
  EXPECT_EQ(r.values.http.sse_heartbeat, 5s);
  EXPECT_EQ(r.values.http.sse_max_queued_bytes, 4096U);
  EXPECT_NE(r.output.find("tls_cert_file = \"/c.pem\""), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sse_heartbeat_ms = 5000"), std::string::npos) << r.output;
}

} // namespace
} // namespace souk::http
