// The torn-MANIFEST trim (engine/kv/manifest_trim.h, LevelDB finding 9): the scanner on
// hand-framed records, then end to end on a real LevelDB in a temporary directory under /tmp,
// which first shows that LevelDB itself refuses the torn MANIFEST and then that the trim lets it
// open with every key it had.
#include "engine/kv/manifest_trim.h"

#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <stdlib.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>

#include "engine/wal/crc32c.h"

namespace kiln::kv {
namespace {

constexpr size_t kBlock = 32768;

// One physical record in LevelDB's log format, written independently of the scanner.
std::string Physical(uint8_t type, const std::string& payload) {
  std::string covered(1, static_cast<char>(type));
  covered += payload;
  const uint32_t crc = wal::crc32c::Mask(wal::crc32c::Value(std::span<const std::byte>(
      reinterpret_cast<const std::byte*>(covered.data()), covered.size())));
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(crc >> (8 * i)));
  out.push_back(static_cast<char>(payload.size() & 0xff));
  out.push_back(static_cast<char>(payload.size() >> 8));
  out.push_back(static_cast<char>(type));
  return out + payload;
}

// A logical record, fragmented across blocks as LevelDB's writer does, appended to `log`.
void Append(std::string& log, const std::string& payload) {
  size_t done = 0;
  bool first = true;
  do {
    size_t left = kBlock - log.size() % kBlock;
    if (left < 7) {
      log.append(left, '\0');
      left = kBlock;
    }
    const size_t n = std::min(payload.size() - done, left - 7);
    const bool last = done + n == payload.size();
    const uint8_t type = first && last ? 1 : first ? 2 : last ? 4 : 3;
    log += Physical(type, payload.substr(done, n));
    done += n;
    first = false;
  } while (done < payload.size());
}

TEST(ManifestScan, ACleanLogIsNotDamaged) {
  std::string log;
  Append(log, "edit one");
  Append(log, std::string(40000, 'x'));  // Spans two blocks.
  const ManifestScan scan = ScanManifest(log);
  EXPECT_FALSE(scan.damaged);
  EXPECT_EQ(scan.valid_bytes, log.size());
}

TEST(ManifestScan, AGarbledLastRecordIsATornTail) {
  std::string log;
  Append(log, "edit one");
  const size_t kept = log.size();
  Append(log, "edit two, torn");
  log[log.size() - 3] ^= 0x40;  // A lost sector in the middle of the last record.
  const ManifestScan scan = ScanManifest(log);
  EXPECT_TRUE(scan.damaged);
  EXPECT_FALSE(scan.valid_after_damage);
  EXPECT_EQ(scan.valid_bytes, kept);
}

TEST(ManifestScan, ATornFirstFragmentWithItsLastFragmentIntactIsATornTail) {
  std::string log;
  Append(log, "edit one");
  const size_t kept = log.size();
  Append(log, std::string(40000, 'y'));
  log[kept + 100] ^= 0x01;  // The first fragment is garbled; the last one still checks.
  const ManifestScan scan = ScanManifest(log);
  EXPECT_TRUE(scan.damaged);
  EXPECT_FALSE(scan.valid_after_damage) << "an orphan fragment is the torn record's rest";
  EXPECT_EQ(scan.valid_bytes, kept);
}

TEST(ManifestScan, DamageFollowedByAValidRecordIsCorruptionNotATail) {
  std::string log;
  Append(log, "edit one");
  Append(log, "edit two");
  log[log.size() - 1] ^= 0x01;
  log.append(kBlock - log.size() % kBlock, '\0');  // LevelDB resumes at the next block.
  Append(log, "edit three");
  const ManifestScan scan = ScanManifest(log);
  EXPECT_TRUE(scan.damaged);
  EXPECT_TRUE(scan.valid_after_damage);
}

TEST(ManifestScan, ARecordCutOffByTheEndOfTheFileIsNotDamage) {
  std::string log;
  Append(log, "edit one");
  const size_t kept = log.size();
  Append(log, "edit two");
  log.resize(log.size() - 3);  // LevelDB reads end of file here, without complaint.
  const ManifestScan scan = ScanManifest(log);
  EXPECT_FALSE(scan.damaged);
  EXPECT_EQ(scan.valid_bytes, kept);
}

class ManifestTrimOnLevelDb : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-manifest-trim-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    ASSERT_TRUE(leveldb::DB::Open(options, db_, &raw).ok());
    std::unique_ptr<leveldb::DB> db(raw);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(db->Put(leveldb::WriteOptions{}, "k" + std::to_string(i), "v").ok());
    }
    db->CompactRange(nullptr, nullptr);  // Version edits in the MANIFEST.
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string ManifestPath() const {
    std::ifstream current(db_ + "/CURRENT");
    std::string name;
    std::getline(current, name);
    return db_ + "/" + name;
  }
  void AppendToManifest(const std::string& bytes) const {
    std::ofstream out(ManifestPath(), std::ios::binary | std::ios::app);
    out << bytes;
  }
  leveldb::Status OpenAndCount(int* keys) const {
    leveldb::Options options;
    leveldb::DB* raw = nullptr;
    leveldb::Status s = leveldb::DB::Open(options, db_, &raw);
    if (!s.ok()) return s;
    std::unique_ptr<leveldb::DB> db(raw);
    std::unique_ptr<leveldb::Iterator> it(db->NewIterator(leveldb::ReadOptions{}));
    *keys = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) ++*keys;
    return it->status();
  }

  std::string dir_;
  std::string db_;
};

TEST_F(ManifestTrimOnLevelDb, ATornLastEditIsCutSoLevelDbOpensWithEveryKey) {
  const uintmax_t before = std::filesystem::file_size(ManifestPath());
  std::string torn = Physical(1, std::string(300, 'e'));
  std::fill(torn.begin() + 100, torn.begin() + 200, '\0');  // A sector of it never landed.
  AppendToManifest(torn);
  int keys = 0;
  const leveldb::Status refused = OpenAndCount(&keys);
  ASSERT_TRUE(refused.IsCorruption()) << "LevelDB finding 9 is gone? " << refused.ToString();

  ManifestTrim trim;
  ASSERT_TRUE(TrimTornManifestTail(leveldb::Env::Default(), db_, &trim).ok());
  EXPECT_TRUE(trim.trimmed);
  EXPECT_EQ(trim.kept_bytes, before);
  EXPECT_EQ(trim.file_bytes, before + torn.size());
  EXPECT_EQ(std::filesystem::file_size(ManifestPath()), before);
  const leveldb::Status opened = OpenAndCount(&keys);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  EXPECT_EQ(keys, 100);
}

TEST_F(ManifestTrimOnLevelDb, AnIntactManifestIsLeftAlone) {
  const uintmax_t before = std::filesystem::file_size(ManifestPath());
  ManifestTrim trim;
  ASSERT_TRUE(TrimTornManifestTail(leveldb::Env::Default(), db_, &trim).ok());
  EXPECT_FALSE(trim.trimmed);
  EXPECT_EQ(trim.kept_bytes, before);
  EXPECT_EQ(std::filesystem::file_size(ManifestPath()), before);
}

TEST_F(ManifestTrimOnLevelDb, CorruptionBeforeAValidRecordIsLeftForLevelDbToReport) {
  std::string bad = Physical(1, std::string(50, 'b'));
  bad[10] ^= 0x01;
  AppendToManifest(bad);
  const uintmax_t size = std::filesystem::file_size(ManifestPath());
  std::string pad(kBlock - size % kBlock, '\0');
  AppendToManifest(pad + Physical(1, "a later edit"));
  const uintmax_t damaged = std::filesystem::file_size(ManifestPath());
  ManifestTrim trim;
  ASSERT_TRUE(TrimTornManifestTail(leveldb::Env::Default(), db_, &trim).ok());
  EXPECT_FALSE(trim.trimmed);
  EXPECT_EQ(std::filesystem::file_size(ManifestPath()), damaged);
  int keys = 0;
  EXPECT_FALSE(OpenAndCount(&keys).ok()) << "real corruption is never hidden";
}

TEST_F(ManifestTrimOnLevelDb, ANewDatabaseHasNothingToTrim) {
  ManifestTrim trim;
  ASSERT_TRUE(TrimTornManifestTail(leveldb::Env::Default(), dir_ + "/none", &trim).ok());
  EXPECT_FALSE(trim.trimmed);
  EXPECT_EQ(trim.manifest, "");
}

}  // namespace
}  // namespace kiln::kv
