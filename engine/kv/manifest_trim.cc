#include "engine/kv/manifest_trim.h"

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <memory>
#include <span>

#include "engine/wal/crc32c.h"

namespace kiln::kv {
namespace {

// LevelDB's log format (db/log_format.h): 32 KiB blocks; each physical record is a 7-byte header
// (masked CRC32C of type + payload, little-endian; length, little-endian u16; type) and payload.
constexpr uint64_t kBlockBytes = 32768;
constexpr uint64_t kHeaderBytes = 7;
enum RecordType : uint8_t { kZero = 0, kFull = 1, kFirst = 2, kMiddle = 3, kLast = 4 };

constexpr const char* kTempName = "/kiln-manifest-trim.tmp";

uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

// Walks the records the way LevelDB's log::Reader does, noting what it would report as corrupt.
class Scanner {
 public:
  explicit Scanner(const std::string& bytes) : bytes_(bytes) {}

  ManifestScan Run() {
    const uint64_t size = bytes_.size();
    uint64_t pos = 0;
    while (pos < size) {
      const uint64_t block_end = std::min(size, (pos / kBlockBytes + 1) * kBlockBytes);
      const uint64_t left = block_end - pos;
      if (left < kHeaderBytes) {  // A block's zero trailer, or a header cut off by the end.
        pos = block_end;
        continue;
      }
      const auto* h = reinterpret_cast<const unsigned char*>(bytes_.data() + pos);
      const uint64_t length = uint64_t{h[4]} | uint64_t{h[5]} << 8;
      const uint8_t type = h[6];
      if (kHeaderBytes + length > left) {
        if (block_end == size) break;  // The writer died mid-record: LevelDB reads end of file.
        Damage();                      // "bad record length".
        pos = block_end;
        continue;
      }
      if (type == kZero && length == 0) {  // Zero fill: LevelDB skips the block's rest silently.
        pos = block_end;
        continue;
      }
      const auto* covered = reinterpret_cast<const std::byte*>(bytes_.data() + pos + 6);
      const uint32_t crc = wal::crc32c::Value(std::span<const std::byte>(covered, 1 + length));
      if (wal::crc32c::Unmask(LoadLe32(h)) != crc) {
        Damage();  // "checksum mismatch": LevelDB drops the rest of the block.
        pos = block_end;
        continue;
      }
      Record(type, pos + kHeaderBytes + length);
      pos += kHeaderBytes + length;
    }
    return scan_;
  }

 private:
  void Damage() {
    scan_.damaged = true;
    in_fragment_ = false;  // LevelDB drops the record being assembled.
  }

  // A physical record whose checksum holds, ending at `end`.
  void Record(uint8_t type, uint64_t end) {
    switch (type) {
      case kFull:
      case kFirst:
        if (in_fragment_) Damage();  // "partial record without end".
        // A record that starts after damage was written after it: the damage is not a tail.
        if (scan_.damaged) scan_.valid_after_damage = true;
        in_fragment_ = type == kFirst;
        if (type == kFull) scan_.valid_bytes = end;
        return;
      case kMiddle:
      case kLast:
        // Without its start it is the rest of a damaged record, not evidence of a later write.
        if (!in_fragment_) {
          Damage();  // "missing start of fragmented record".
          return;
        }
        if (type == kLast) {
          in_fragment_ = false;
          scan_.valid_bytes = end;
        }
        return;
      default:
        Damage();  // "unknown record type".
        return;
    }
  }

  const std::string& bytes_;
  ManifestScan scan_;
  bool in_fragment_ = false;
};

}  // namespace

ManifestScan ScanManifest(const std::string& bytes) {
  ManifestScan scan = Scanner(bytes).Run();
  assert(scan.valid_bytes <= bytes.size());
  return scan;
}

leveldb::Status TrimTornManifestTail(leveldb::Env* env, const std::string& db_dir,
                                     ManifestTrim* out) {
  assert(env != nullptr && out != nullptr);
  *out = ManifestTrim{};
  const std::string current_path = db_dir + "/CURRENT";
  if (!env->FileExists(current_path)) return leveldb::Status::OK();  // A new database.
  std::string current;
  leveldb::Status s = leveldb::ReadFileToString(env, current_path, &current);
  if (!s.ok()) return s;
  // CURRENT is "MANIFEST-NNNNNN\n"; anything else is LevelDB's to report.
  if (current.empty() || current.back() != '\n' || !current.starts_with("MANIFEST-") ||
      current.find('/') != std::string::npos) {
    return leveldb::Status::OK();
  }
  current.pop_back();
  out->manifest = current;
  const std::string manifest_path = db_dir + "/" + current;
  if (!env->FileExists(manifest_path)) return leveldb::Status::OK();  // LevelDB reports it.
  std::string bytes;
  s = leveldb::ReadFileToString(env, manifest_path, &bytes);
  if (!s.ok()) return s;
  out->file_bytes = bytes.size();
  const ManifestScan scan = ScanManifest(bytes);
  out->kept_bytes = scan.valid_bytes;
  if (!scan.damaged || scan.valid_after_damage) return leveldb::Status::OK();

  const std::string temp_path = db_dir + kTempName;
  leveldb::WritableFile* raw = nullptr;
  s = env->NewWritableFile(temp_path, &raw);
  if (!s.ok()) return s;
  std::unique_ptr<leveldb::WritableFile> file(raw);
  s = file->Append(leveldb::Slice(bytes.data(), scan.valid_bytes));
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  file.reset();
  if (s.ok()) s = env->RenameFile(temp_path, manifest_path);
  if (!s.ok()) {
    env->RemoveFile(temp_path);  // Best effort: the MANIFEST itself is untouched.
    return s;
  }
  out->trimmed = true;
  return leveldb::Status::OK();
}

}  // namespace kiln::kv
