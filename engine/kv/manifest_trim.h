// Before LevelDB opens a database: cut a torn last record off the MANIFEST that CURRENT names
// (docs/fault-model.md, LevelDB finding 9).
//
// Why it is safe: LevelDB syncs the MANIFEST after every version edit it appends and installs the
// edit only once that sync succeeded; after a failed append or sync it appends nothing more (the
// DB stops with a background error). So a damaged record with no valid record after it is an
// edit whose sync never completed: it never took effect, the files it would have made obsolete
// were never deleted, and dropping it leaves the database as LevelDB last committed it. LevelDB
// itself treats such a record as fatal on open ("Corruption: checksum mismatch", whatever
// paranoid_checks says), which would make the store unopenable over an edit that never counted.
//
// Damage followed by a valid record is not a torn tail: it is corruption, left in place for
// LevelDB to report. The rewrite goes through `env` (the simulated disk in simulation): the valid
// prefix to a temporary file, synced, then renamed over the MANIFEST; a crash in between leaves
// the old file, and the next open trims it again.
#pragma once

#include <leveldb/env.h>
#include <leveldb/status.h>
#include <cstdint>
#include <string>

namespace kiln::kv {

struct ManifestTrim {
  std::string manifest;     // The file CURRENT names ("" if there is no CURRENT yet).
  uint64_t file_bytes = 0;  // Its size before.
  uint64_t kept_bytes = 0;  // The valid prefix: every complete record before the damage.
  bool trimmed = false;     // Whether the file was rewritten to kept_bytes.
};

// Where the MANIFEST's records stop being valid in `bytes` (LevelDB's log format: 32 KiB blocks
// of records with a masked CRC32C, a length and a type), and whether anything valid follows the
// damage. Exposed for tests.
struct ManifestScan {
  uint64_t valid_bytes = 0;         // End of the last complete, checksummed logical record.
  bool damaged = false;             // A record LevelDB would report as corrupt lies after it.
  bool valid_after_damage = false;  // A valid physical record follows the damage.
};
ManifestScan ScanManifest(const std::string& bytes);

// Trims the torn tail of `db_dir`'s current MANIFEST, if it has one that LevelDB would refuse.
// Errors of `env` are returned (never read as "nothing to trim").
leveldb::Status TrimTornManifestTail(leveldb::Env* env, const std::string& db_dir,
                                     ManifestTrim* out);

}  // namespace kiln::kv
