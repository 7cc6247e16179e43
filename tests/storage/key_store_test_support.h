// Key stores for tests, and their files searched and their RocksDB opened
// behind their back to tamper.
#ifndef INNSYN_TESTS_STORAGE_KEY_STORE_TEST_SUPPORT_H_
#define INNSYN_TESTS_STORAGE_KEY_STORE_TEST_SUPPORT_H_

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb/db.h"
#include "storage/key_store.h"
#include "tests/support/temp_dir.h"

namespace innsyn::testing {

inline std::string ReadAll(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
}

inline void WriteAll(const std::string& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
}

// The files under `dir` whose bytes contain `needle`.
inline std::vector<std::string> FilesContaining(const std::string& dir, std::string_view needle) {
  std::vector<std::string> found;
  for (const std::filesystem::directory_entry& entry :
       std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file() && ReadAll(entry.path()).find(needle) != std::string::npos) {
      found.push_back(entry.path().string());
    }
  }
  return found;
}

inline std::string Bytes(const std::shared_ptr<const storage::DataKey>& key) {
  return std::string(key->bytes());
}

// The key store's RocksDB opened behind its back (the store must be closed).
inline std::unique_ptr<rocksdb::DB> OpenDirectly(const std::string& dir) {
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), dir, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return std::unique_ptr<rocksdb::DB>(db);
}

inline std::string StoredValue(const std::string& dir, const std::string& key) {
  std::string value;
  EXPECT_TRUE(OpenDirectly(dir)->Get(rocksdb::ReadOptions(), key, &value).ok()) << key;
  return value;
}

inline void PutDirectly(const std::string& dir, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions write;
  write.sync = true;
  ASSERT_TRUE(OpenDirectly(dir)->Put(write, key, value).ok());
}

class KeyStoreTest : public ::testing::Test {
 protected:
  storage::KeyStoreOptions Options() const {
    storage::KeyStoreOptions options;
    options.dir = dir_;
    options.kek_file = kek_;
    return options;
  }
  std::unique_ptr<storage::KeyStore> Open(const storage::KeyStoreOptions& options) {
    absl::StatusOr<std::unique_ptr<storage::KeyStore>> store = storage::KeyStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<storage::KeyStore> Open() { return Open(Options()); }
  absl::Status OpenError(const storage::KeyStoreOptions& options) {
    return storage::KeyStore::Open(options).status();
  }
  std::shared_ptr<const storage::DataKey> Make(storage::KeyStore& store, const std::string& id) {
    absl::StatusOr<std::vector<std::shared_ptr<const storage::DataKey>>> keys =
        store.GetOrCreate({id});
    EXPECT_TRUE(keys.ok()) << keys.status();
    return keys.ok() ? keys->front() : nullptr;
  }

  TempDir root_;
  const std::string dir_ = root_.path() + "/keys";
  const std::string kek_ = root_.path() + "/keys.kek";
};

}  // namespace innsyn::testing

#endif  // INNSYN_TESTS_STORAGE_KEY_STORE_TEST_SUPPORT_H_
