// KvStore on the production runtime: PosixFileSystem, AsioScheduler (a real loop thread and
// blocking pool) and LevelDB's default Env, in a fresh directory under /tmp. Method: put, get,
// scan, close, reopen and read back; nothing is timed, and the directory is removed afterwards.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "engine/kv/kv_store.h"
#include "engine/runtime/asio_scheduler.h"
#include "engine/runtime/default_leveldb_host.h"
#include "engine/runtime/posix_file_system.h"
#include "tests/runtime/test_util.h"

namespace kiln::kv {
namespace {

struct Runtime {
  AsioScheduler scheduler;
  PosixFileSystem fs{scheduler};
  DefaultLevelDbHost host;
  std::string dir;
};

Task<Status> Open(Runtime& rt, std::unique_ptr<KvStore>* out) {
  KvOptions options;
  options.dir = rt.dir + "/store";
  options.value_bytes_max = 64 << 10;
  options.wal.record_bytes_max = 128 << 10;
  options.wal.segment_bytes = 1 << 20;
  // NOTE (GCC 12, task.h): the options aggregate goes to Open outside the co_await expression.
  Task<Result<std::unique_ptr<KvStore>>> opening =
      KvStore::Open(rt.fs, rt.scheduler, rt.host, options);
  Result<std::unique_ptr<KvStore>> store = co_await std::move(opening);
  if (!store.ok()) co_return store.status();
  *out = std::move(store).value();
  co_return Status::Ok();
}

Task<void> PutGetReopen(Runtime& rt) {
  std::unique_ptr<KvStore> kv;
  KILN_CO_ASSERT_OK(co_await Open(rt, &kv));
  for (int i = 0; i < 100; ++i) {
    KILN_CO_ASSERT_OK(co_await kv->put("key" + std::to_string(i), std::string(1, '\0') + "v"));
  }
  KILN_CO_ASSERT_OK(co_await kv->del("key5"));
  Result<std::optional<std::string>> got = co_await kv->get("key7");
  KILN_CO_ASSERT_OK(got);
  EXPECT_EQ(got->value_or("<absent>"), std::string(1, '\0') + "v");
  KILN_CO_ASSERT_OK(co_await kv->checkpoint());
  KILN_CO_ASSERT_OK(co_await kv->put("after-checkpoint", "x"));
  KILN_CO_ASSERT_OK(co_await kv->close());
  kv.reset();

  KILN_CO_ASSERT_OK(co_await Open(rt, &kv));
  EXPECT_EQ(kv->applied_lsn(), 102u);
  Result<KeyValues> all = co_await kv->scan_prefix("key", 1000);
  KILN_CO_ASSERT_OK(all);
  EXPECT_EQ(all->size(), 99u);
  got = co_await kv->get("key5");
  KILN_CO_ASSERT_OK(got);
  EXPECT_FALSE(got->has_value());
  got = co_await kv->get("after-checkpoint");
  KILN_CO_ASSERT_OK(got);
  EXPECT_EQ(got->value_or("<absent>"), "x");
  KILN_CO_ASSERT_OK(co_await kv->close());
}

TEST(KvPosixSmoke, PutGetReopenOnTheRealRuntime) {
  char tmpl[] = "/tmp/kiln-kv-smoke-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  {
    Runtime rt;
    rt.dir = tmpl;
    RunToCompletion(rt.scheduler, PutGetReopen(rt));
    EXPECT_EQ(rt.scheduler.live_tasks(), 0u) << "close() ends the apply worker and the log";
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace kiln::kv
