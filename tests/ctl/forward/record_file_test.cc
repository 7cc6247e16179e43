#include "ctl/forward/record_file.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.h"

namespace innsyn::ctl::forward {
namespace {

class RecordFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text, std::ios::openmode mode = std::ios::trunc) {
    std::ofstream(path(), std::ios::binary | mode) << text;
    return path();
  }
  std::string path() const { return dir_.path() + "/audit.csv"; }
  std::vector<Record> ReadAll(RecordFile& file, bool final) {
    std::vector<Record> records;
    while (true) {
      absl::StatusOr<std::optional<Record>> record = file.Next(final);
      EXPECT_TRUE(record.ok()) << record.status();
      if (!record.ok() || !*record) return records;
      records.push_back(**record);
    }
  }
  testing::TempDir dir_;
  Mapping mapping_;
};

TEST_F(RecordFileTest, QuotedFieldsSpanLinesAndOffsetsSayWhereEachRecordIs) {
  mapping_.delimiter = ';';
  Write("a;b\n1;\"x;\"\"y\"\"\nz\"\n\n2;w\r\n");
  auto file = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(file.ok()) << file.status();
  std::vector<Record> records = ReadAll(**file, false);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ((*file)->header(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"1", "x;\"y\"\nz"}));
  EXPECT_EQ(records[0].line, 2u);
  EXPECT_EQ(records[0].begin, 4u);
  EXPECT_EQ(records[1].line, 5u);  // after the blank line
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"2", "w"}));
  EXPECT_EQ((*file)->position().line, 6u);
}

TEST_F(RecordFileTest, ALineWithoutItsBreakWaitsUnlessTheFileIsFinal) {
  Write("a,b\n1,2\n3,");
  auto file = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ReadAll(**file, false).size(), 1u);
  Write("4\n", std::ios::app);
  std::vector<Record> records = ReadAll(**file, false);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (std::vector<std::string>{"3", "4"}));
  Write("5,6", std::ios::app);
  EXPECT_EQ(ReadAll(**file, true).size(), 1u);
}

TEST_F(RecordFileTest, AnOpenQuoteAtTheEndWaitsThenResumesWhole) {
  Write("a,b\n1,\"x\n");
  auto file = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(ReadAll(**file, false).size(), 0u);
  Write("y\"\n", std::ios::app);
  std::vector<Record> records = ReadAll(**file, false);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields[1], "x\ny");
  EXPECT_EQ(records[0].text, "1,\"x\ny\"\n");
}

TEST_F(RecordFileTest, MalformedRowIsReturnedWithItsErrorAndReadingGoesOn) {
  Write("a,b\n1,x\"y\n2,z\n");
  auto file = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(file.ok());
  std::vector<Record> records = ReadAll(**file, false);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_FALSE(records[0].error.ok());
  EXPECT_EQ(records[1].fields, (std::vector<std::string>{"2", "z"}));
}

TEST_F(RecordFileTest, ResumingReadsTheHeaderAndFingerprintFromTheTop) {
  Write("a,b\n1,2\n3,4\n");
  auto whole = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(whole.ok());
  std::vector<Record> records = ReadAll(**whole, false);
  auto resumed = RecordFile::Open(path(), mapping_, {records[1].begin, records[1].line});
  ASSERT_TRUE(resumed.ok());
  std::vector<Record> rest = ReadAll(**resumed, false);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].fields, records[1].fields);
  EXPECT_EQ((*resumed)->header(), (*whole)->header());
  EXPECT_EQ((*resumed)->fingerprint(), (*whole)->fingerprint());
  EXPECT_FALSE((*whole)->fingerprint().empty());
}

TEST_F(RecordFileTest, JsonLinesAreOneRecordALine) {
  mapping_.format = FileFormat::kJsonLines;
  Write("{\"a\":1}\n\n{\"a\":2}\n");
  auto file = RecordFile::Open(path(), mapping_, {});
  ASSERT_TRUE(file.ok());
  std::vector<Record> records = ReadAll(**file, false);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].line, 3u);
  EXPECT_EQ(records[1].text, "{\"a\":2}\n");
}

}  // namespace
}  // namespace innsyn::ctl::forward
