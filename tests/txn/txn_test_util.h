// Shared by the txn and queue tests: a KV store on the simulated runtime (kv::testing::Rig) with
// a TxnStore over it, and small helpers that fail the test on unexpected errors.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/txn/txn_store.h"
#include "tests/kv/kv_test_util.h"

namespace kiln::txn::testing {

using TxnPtr = std::unique_ptr<Transaction>;

// A store and a TxnStore over it, opened in the rig.
struct TxnRig {
  explicit TxnRig(TxnOptions options = {}, uint64_t seed = 1) : rig(seed), options(options) {}
  ~TxnRig() {
    rig.scheduler.destroy_all_tasks();
    txns.reset();
  }
  void Open() {
    rig.Run([](TxnRig& t) -> Task<void> {
      Status s = co_await kv::testing::OpenStore(t.rig, t.rig.Options());
      EXPECT_TRUE(s.ok()) << s.ToString();
    }(*this));
    ASSERT_NE(rig.store, nullptr);
    txns = std::make_unique<TxnStore>(*rig.store, rig.scheduler, rig.clock, options);
  }
  kv::testing::Rig rig;
  TxnOptions options;
  std::unique_ptr<TxnStore> txns;
};

inline Task<TxnPtr> Begin(TxnStore& s) {
  Result<TxnPtr> t = co_await s.begin();
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  co_return t.ok() ? std::move(t).value() : nullptr;
}

inline Task<std::string> Get(Transaction& t, std::string key) {
  Result<std::optional<std::string>> v = co_await t.get(std::move(key));
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  co_return v.ok() && v->has_value() ? **v : std::string("<absent>");
}

inline Task<Status> PutAndCommit(TxnStore& s, std::string key, std::string value) {
  TxnPtr t = co_await Begin(s);
  if (t == nullptr) co_return Status::Unknown("no transaction");
  EXPECT_TRUE(t->put(std::move(key), std::move(value)).ok());
  co_return co_await t->commit();
}

}  // namespace kiln::txn::testing
