// The tree as C2SP tlog-tiles serves it on innsynd's HTTP listener
// (README, "Tiles"): two clients that share no code with innsyn check the
// signed checkpoint against the tiles (Go's golang.org/x/mod/sumdb/tlog,
// the standard one, and tests/integration/tlog_tiles_check.py, written from
// the specifications), over plaintext and over mTLS as the auditor; the
// headers, the malformed paths, entry bundles and the roles with curl.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fstream>
#include <tuple>

#include "innsyn/v1/service.grpc.pb.h"
#include "tests/support/curl.h"
#include "tests/support/daemon_process.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_events.h"

namespace innsyn {
namespace {

using testing::Curl;
using testing::DaemonProcess;
using testing::HttpAnswer;
using testing::JournalRead;
using testing::ReadFile;
using testing::RunCommand;

constexpr char kPatient[] = "01017012345";
constexpr size_t kHashBytes = 32;
// A full level 0 tile and one of 44; a level 1 tile of width 1.
constexpr int kSmallTree = 300;
// Three full level 0 tiles and one of 232; a level 1 tile of width 3.
// (Higher levels are the same code here; the 70,000 entries a level 2 tile
// needs made this test take 33 s on a busy 2-core machine.)
constexpr int kLargeTree = 1000;
constexpr int kBatch = 1000;

bool HasHeader(const HttpAnswer& answer, const std::string& line) {
  return answer.headers.find("\r\n" + line + "\r\n") != std::string::npos ||
         answer.headers.ends_with("\r\n" + line);
}

class TilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, data_dir(), std::vector<std::string>{"--http-listen", "127.0.0.1:0"});
    ASSERT_TRUE(daemon_->running());
    channel_ = grpc::CreateChannel(daemon_->grpc_address(), grpc::InsecureChannelCredentials());
  }

  std::string data_dir() const { return dir_.path() + "/data"; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(daemon_->http_port()) + path;
  }

  // Appends events until the ledger holds `size` entries.
  void GrowTo(int size) {
    auto ingest = v1::IngestService::NewStub(channel_);
    while (appended_ < size) {
      v1::AppendRequest request;
      for (int i = 0; i < kBatch && appended_ < size; ++i) {
        *request.add_events() = JournalRead(++appended_, kPatient, "dr-a");
      }
      grpc::ClientContext context;
      v1::AppendResponse response;
      grpc::Status status = ingest->Append(&context, request, &response);
      ASSERT_TRUE(status.ok()) << status.error_message();
    }
  }

  // Runs one of the two clients; returns its exit code and output.
  static testing::CommandResult Check(const std::string& client, const std::string& url,
                                      const std::string& verifier_key,
                                      std::vector<std::string> options = {}) {
    std::vector<std::string> argv;
    if (client == "go") {
      argv = {TLOG_CLIENT_PATH, "-url", url, "-verifier-key", verifier_key};
    } else {
      argv = {"/usr/bin/python3", TLOG_TILES_CHECK_PATH, "--url", url,
              "--verifier-key",   verifier_key};
    }
    argv.insert(argv.end(), options.begin(), options.end());
    return RunCommand(argv);
  }

  testing::TempDir dir_;
  std::unique_ptr<DaemonProcess> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
  int appended_ = 0;
};

TEST_F(TilesTest, TwoIndependentClientsVerifyTheSignedTreeFromTheTilesAsItGrows) {
  const std::string key = data_dir() + "/checkpoint_key.pub";
  const std::string url = Url("");
  ASSERT_NO_FATAL_FAILURE(GrowTo(kSmallTree));
  testing::CommandResult python = Check("python", url, key);
  EXPECT_EQ(python.exit_code, 0) << python.output;
  EXPECT_NE(python.output.find("size 300: signature, root, chain and 2 tile levels"),
            std::string::npos)
      << python.output;
  testing::CommandResult go = Check("go", url, key);
  EXPECT_EQ(go.exit_code, 0) << go.output;
  EXPECT_NE(go.output.find("size 300: signature, tree hash and 3 inclusion proofs verified"),
            std::string::npos)
      << go.output;
  HttpAnswer small = Curl(Url("/checkpoint"));
  ASSERT_EQ(small.code, 200);
  const std::string old_checkpoint = dir_.path() + "/checkpoint-300";
  std::ofstream(old_checkpoint, std::ios::binary) << small.body;

  ASSERT_NO_FATAL_FAILURE(GrowTo(kLargeTree));
  python = Check("python", url, key);
  EXPECT_EQ(python.exit_code, 0) << python.output;
  EXPECT_NE(python.output.find("size 1000: signature, root, chain and 2 tile levels"),
            std::string::npos)
      << python.output;
  go = Check("go", url, key, {"-old-checkpoint", old_checkpoint});
  EXPECT_EQ(go.exit_code, 0) << go.output;
  EXPECT_NE(go.output.find("size 1000: signature, tree hash and 3 inclusion proofs verified, "
                           "consistent with size 300"),
            std::string::npos)
      << go.output;
}

TEST_F(TilesTest, TheCheckpointIsNotCachedAndTilesArePrivateAndImmutable) {
  ASSERT_NO_FATAL_FAILURE(GrowTo(kSmallTree));
  HttpAnswer checkpoint = Curl(Url("/checkpoint"));
  ASSERT_EQ(checkpoint.code, 200) << checkpoint.body;
  EXPECT_TRUE(HasHeader(checkpoint, "Content-Type: text/plain; charset=utf-8"))
      << checkpoint.headers;
  EXPECT_TRUE(HasHeader(checkpoint, "Cache-Control: no-store")) << checkpoint.headers;
  EXPECT_NE(checkpoint.body.find("\n300\n"), std::string::npos) << checkpoint.body;

  // The level 0 tiles are the leaf hashes GetLeafHashes gives.
  v1::GetLeafHashesRequest request;
  request.set_count(kSmallTree);
  v1::GetLeafHashesResponse leaves;
  grpc::ClientContext context;
  ASSERT_TRUE(
      v1::AccessLogService::NewStub(channel_)->GetLeafHashes(&context, request, &leaves).ok());
  ASSERT_EQ(leaves.leaf_hashes_size(), kSmallTree);
  std::string expected;
  for (const std::string& hash : leaves.leaf_hashes()) expected += hash;
  for (const auto& [path, from, width] :
       {std::tuple{"/tile/0/000", 0, 256}, std::tuple{"/tile/0/001.p/44", 256, 44},
        std::tuple{"/tile/0/001.p/3", 256, 3}}) {
    HttpAnswer tile = Curl(Url(path));
    ASSERT_EQ(tile.code, 200) << path << tile.body;
    EXPECT_TRUE(HasHeader(tile, "Content-Type: application/octet-stream")) << tile.headers;
    EXPECT_TRUE(HasHeader(tile, "Cache-Control: private, max-age=31536000, immutable"))
        << tile.headers;
    EXPECT_EQ(tile.body, expected.substr(from * kHashBytes, width * kHashBytes)) << path;
  }
}

TEST_F(TilesTest, MalformedPathsAre400EntryBundlesAndTilesBeyondTheTree404AndNothingIsRecorded) {
  ASSERT_NO_FATAL_FAILURE(GrowTo(kSmallTree));
  // Malformed paths are 400; entry bundles and tiles beyond the tree 404.
  for (const auto& [path, code, why] : {
           std::tuple{"/tile/00/000", 400, "level \\\"00\\\""},
           std::tuple{"/tile/0/0001", 400, "index element \\\"0001\\\" is not 3 digits"},
           std::tuple{"/tile/0/001/000", 400, "index element \\\"001\\\" must begin with x"},
           std::tuple{"/tile/0/x000/001", 400, "leading x000"},
           std::tuple{"/tile/0/001.p/256", 400, "partial width \\\"256\\\""},
           std::tuple{"/tile/0/001.p/0", 400, "partial width \\\"0\\\""},
           std::tuple{"/tile/entries/000", 404, "entry bundles (/tile/entries/...) are not served"},
           std::tuple{"/tile/entries/001.p/44", 404, "personal data"},
           std::tuple{"/tile/0/001", 404, "beyond the tree of 300 entries"},
           std::tuple{"/tile/0/001.p/45", 404, "beyond the tree of 300 entries"},
           std::tuple{"/tile/1/000.p/2", 404, "beyond the tree of 300 entries"},
           std::tuple{"/tile/2/000.p/1", 404, "beyond the tree of 300 entries"},
           std::tuple{"/tile/6/000.p/1", 404, "above the highest this ledger has"},
       }) {
    HttpAnswer answer = Curl(Url(path));
    EXPECT_EQ(answer.code, code) << path;
    EXPECT_NE(answer.body.find(why), std::string::npos) << path << ": " << answer.body;
  }
  // Reads of hashes are not recorded (as GetLeafHashes and the proofs
  // are not): the tree is as it was.
  EXPECT_NE(Curl(Url("/checkpoint")).body.find("\n300\n"), std::string::npos);
}

// ---- mTLS: the roles ----

class TilesHttpsTest : public TilesTest {
 protected:
  void SetUp() override {
    testing::CommandResult init = RunCommand({INNSYNCTL_PATH, "pki", "init", "--dir", pki()});
    ASSERT_EQ(init.exit_code, 0) << init.output;
    daemon_ = std::make_unique<DaemonProcess>(
        INNSYND_PATH, data_dir(),
        std::vector<std::string>{"--http-listen", "127.0.0.1:0", "--tls-cert",
                                 pki() + "/server.pem", "--tls-key", pki() + "/server.key",
                                 "--tls-ca", pki() + "/ca.pem", "--tls-crl", pki() + "/crl.pem"});
    ASSERT_TRUE(daemon_->running());
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(pki() + "/ca.pem");
    ssl.pem_cert_chain = ReadFile(pki() + "/ingest.pem");
    ssl.pem_private_key = ReadFile(pki() + "/ingest.key");
    channel_ = grpc::CreateChannel(daemon_->grpc_address(), grpc::SslCredentials(ssl));
  }
  std::string pki() const { return dir_.path() + "/pki"; }
  std::string HttpsUrl(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(daemon_->http_port()) + path;
  }
  // The options by which `client` ("curl", "python" or "go") presents
  // `role`'s certificate.
  std::vector<std::string> As(const std::string& role, const std::string& client = "curl") const {
    const std::string dash = client == "go" ? "-" : "--";
    return {client == "curl" ? "--cacert" : dash + "ca",
            pki() + "/ca.pem",
            dash + "cert",
            pki() + "/" + role + ".pem",
            dash + "key",
            pki() + "/" + role + ".key"};
  }
};

TEST_F(TilesHttpsTest, TheAuditorVerifiesOverMtlsAndARoleWithoutGetTileIsRefused) {
  ASSERT_NO_FATAL_FAILURE(GrowTo(kSmallTree));
  const std::string key = data_dir() + "/checkpoint_key.pub";
  testing::CommandResult python = Check("python", HttpsUrl(""), key, As("auditor", "python"));
  EXPECT_EQ(python.exit_code, 0) << python.output;
  testing::CommandResult go = Check("go", HttpsUrl(""), key, As("auditor", "go"));
  EXPECT_EQ(go.exit_code, 0) << go.output;

  HttpAnswer tile = Curl(HttpsUrl("/tile/0/000"), As("ingest"));
  EXPECT_EQ(tile.code, 403) << tile.body;
  EXPECT_NE(tile.body.find("role ingest may not call GetTile"), std::string::npos) << tile.body;
  // A portal may read the checkpoint (as over gRPC) but not the tiles.
  EXPECT_EQ(Curl(HttpsUrl("/checkpoint"), As("portal")).code, 200);
  EXPECT_EQ(Curl(HttpsUrl("/tile/0/000"), As("portal")).code, 403);
  EXPECT_EQ(Curl(HttpsUrl("/checkpoint"), As("ingest")).code, 403);
  EXPECT_EQ(Curl(HttpsUrl("/tile/0/000"), As("controller")).code, 200);
  // Without a client certificate the handshake fails.
  EXPECT_NE(Curl(HttpsUrl("/checkpoint"), {"--cacert", pki() + "/ca.pem"}).curl_exit, 0);
}

}  // namespace
}  // namespace innsyn
