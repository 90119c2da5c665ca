// arena: up to 1000 agents (Ed25519 keys from seeds the run's random stream picks) assert, vote,
// re-vote, withdraw votes, retract, supersede their own assertions and query the ledger
// concurrently, under the full fault plan of the transactional scenarios. Subjects and predicates
// come from a small vocabulary (emoji and right-to-left text among them) so that lenses have
// competing candidates. Adversaries: trolls (many votes of weight near kWeightMin against a few
// heavy voters), forgeries (signed by another key, a flipped bit, a body changed after signing, a
// signature over the bare encoding instead of the signed form), replayed and duplicated votes,
// retractions by the wrong signer, and hostile inputs (NUL, invalid UTF-8, over-long text up to
// 1 MiB, NaN, infinite and negative weights, confidence out of range, bad lengths and times).
//
// Every submission is recorded with its outcome (properties/ledger_history.h). Properties: a
// hostile submission is refused (at once, as it completes); an acknowledged assertion has the id
// its body hashes to, and reads that begin after it see it; after heal, a crash (or restart) and
// recovery, a full scan passes CheckScan (aggregates equal a recount, every index entry points
// at a stored record and every record is indexed, ids are hashes) and the history checker
// (bounds and signatures valid, nothing forged, invalid or refused stored, nothing acknowledged
// lost, each vote slot reachable by some order of its submissions); a second crash and recovery
// scans the same. Then Ledger::resolve equals the reference lens (properties/ledger_reference.h)
// for every (subject, predicate) under every rule, and every acknowledged audit record reads
// back.
//
// Clients go on after refusals (InvalidArgument, NotFound), Conflict, TooOld and NoSpace, and
// after one Unavailable (the store's simulated hash failure says so without fail-stopping);
// after Unknown, a second Unavailable or any other store error they stop and ask for a restart.
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/kv/kv_store.h"
#include "engine/ledger/crypto.h"
#include "engine/ledger/encoding.h"
#include "engine/ledger/ledger.h"
#include "engine/ledger/lens.h"
#include "engine/runtime/buggify.h"
#include "engine/runtime/event.h"
#include "engine/txn/txn_store.h"
#include "properties/ledger_history.h"
#include "properties/ledger_reference.h"
#include "scenarios/txn_scenario.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "simfs/sim_file_system.h"
#include "simfs/sim_level_env.h"
#include "simfs/sim_leveldb_host.h"

namespace kiln::scenarios {
namespace {

using ledger::Assertion;
using ledger::AssertionBody;
using ledger::AssertionId;
using ledger::KeyPair;
using ledger::LensOptions;
using ledger::LensRule;
using ledger::Resolution;
using ledger::Retraction;
using ledger::RetractionBody;
using ledger::Vote;
using ledger::VoteBody;
using properties::LedgerOp;
using Kind = properties::LedgerOp::Kind;

constexpr const char* kDir = "/ledger";
constexpr int kOpenAttemptsMax = 100000;
constexpr int64_t kEpochUs = 1'767'225'600'000'000;  // 2026-01-01: timestamps count from here.
constexpr size_t kQueryLimit = 1000;
constexpr size_t kHotAssertions = 3;  // Where most votes go.
constexpr LensRule kRules[] = {LensRule::kRecency, LensRule::kConsensus, LensRule::kConfidence};
// The signature of a hostile body that cannot be encoded (a NaN), so cannot be signed.
const std::string kFillerSignature(ledger::kSignatureBytes, 'Z');

// The vocabulary: valid UTF-8 with accents, CJK, emoji, Arabic and Hebrew (right-to-left) and a
// bidi override, so that every lens sees several candidates per (subject, predicate).
const std::vector<std::string>& Subjects() {
  static const std::vector<std::string> v = {"berlin", "Zürich", "東京 🗼", "القاهرة",
                                             "ירושלים \u202Eabc\u202C"};
  return v;
}
const std::vector<std::string>& Predicates() {
  static const std::vector<std::string> v = {"population", "mayor", "🌡️ climate"};
  return v;
}
const std::vector<std::string>& Texts() {
  static const std::vector<std::string> v = {
      "",          "3.7 million", "Kai Wegner",    "🦀🦀🦀",
      "שלום עולם", "مرحبا",       "e\u0301\u0302", "\u200F!"};
  return v;
}

// Malformed UTF-8 (no NUL): overlong, surrogate, truncated, stray continuation, above U+10FFFF.
const std::vector<std::string>& BadUtf8() {
  static const std::vector<std::string> v = {"\xC0\xAF", "ab\xED\xA0\x80",   "\xE2\x82",
                                             "x\x80y",   "\xF4\x90\x80\x80", "\xFF"};
  return v;
}

// Valid UTF-8 of exactly `bytes` bytes, mixing emoji and right-to-left letters.
std::string LongText(size_t bytes) {
  static const std::string unit = "🦀שa";  // 4 + 2 + 1 bytes.
  std::string s;
  s.reserve(bytes);
  while (s.size() + unit.size() <= bytes) s += unit;
  s.append(bytes - s.size(), 'a');
  return s;
}

template <typename Body>
std::string SignOrFill(const Body& body, const KeyPair& keys) {
  Result<std::string> form = ledger::SignedForm(body);
  if (!form.ok()) return kFillerSignature;
  Result<std::string> signature = ledger::SignDetached(*form, keys.secret_key);
  return signature.ok() ? *signature : kFillerSignature;
}

std::string Number(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

std::string Short(std::string_view bytes) {
  return ledger::Hex(bytes).substr(0, 12);
}

class Arena final : public sim::Scenario {
 public:
  static constexpr const char* kName = "arena";
  static constexpr const char* kDescription =
      "up to 1000 agents assert, vote, retract and query a signed ledger among trolls, forgers "
      "and hostile inputs: nothing forged or invalid stored, nothing acknowledged lost, "
      "aggregates and indexes exact, lenses equal a reference";
  static std::vector<sim::FaultKind> SwarmKinds() { return TxnScenario::SwarmKinds(); }

  ~Arena() override {
    if (store_ != nullptr && env_ != nullptr) DropStore();
  }

  void setup(sim::World& world) override;
  bool done() const override { return ops_remaining_ == 0 && active_clients_ == 0; }
  void heal(sim::World& world) override {
    world.scheduler().spawn_in(simclock::kSimulatorProcess, Verify(), "verify");
  }
  bool settled() const override { return verified_; }
  sim::Check check(sim::World&) override { return final_; }
  std::string pending() const override;

 private:
  enum class Role : uint8_t { kAttacker, kTroll, kHeavy, kNormal };
  struct Agent {
    KeyPair keys;
    Role role = Role::kNormal;
  };
  // An assertion acknowledged to a client.
  struct Known {
    AssertionId id;
    size_t agent = 0;
    size_t pair = 0;
    uint64_t acked_step = 0;
  };
  // What the clients asked to record in a pair's audit trail.
  struct Audits {
    std::vector<Resolution> acked;
    int64_t in_doubt = 0;
  };
  struct ClientGuard {
    Arena* a;
    explicit ClientGuard(Arena* arena) : a(arena) { ++a->active_clients_; }
    ~ClientGuard() {
      if (--a->active_clients_ == 0 && a->ops_remaining_ == 0) a->clients_finished_->set();
    }
  };

  Random& random() { return world_->random(); }
  uint64_t step() const { return world_->scheduler().steps(); }
  void Note(const std::string& what) {
    world_->trace().record(simclock::TraceKind::kNote, 0, 0, "arena: " + what);
  }
  void Fail(const std::string& property, const std::string& message) {
    if (final_.ok) final_ = sim::Check::Fail(property, message);
    world_->fail(property, message);
  }

  kv::KvOptions Options() const;
  void DropStore();
  Task<void> Boot();
  Task<void> Client(uint64_t client);
  Task<Status> RunOp(uint64_t client);

  // Records, sends and judges one submission.
  Task<Status> Send(uint64_t client, LedgerOp op);
  void Judge(size_t index, const std::optional<AssertionId>& id);

  int64_t NextTs() { return kEpochUs + ++tick_; }
  size_t PickAgent(Role role);
  const Known* PickKnown(bool hot);
  AssertionBody NewBody(size_t agent);
  LedgerOp Valid(Kind kind);
  Vote SignedVote(size_t voter, const AssertionId& id, double weight);
  Retraction SignedRetraction(size_t signer, RetractionBody::Kind kind, const AssertionId& id);
  double WeightFor(Role role);

  // The clients' operations.
  Task<Status> AssertNew(uint64_t client);
  Task<Status> Supersede(uint64_t client);
  Task<Status> CastVote(uint64_t client);
  Task<Status> Revote(uint64_t client, bool withdraw);
  Task<Status> RetractAssertion(uint64_t client);
  Task<Status> Replay(uint64_t client);
  Task<Status> Forge(uint64_t client);
  Task<Status> Hostile(uint64_t client);
  LedgerOp HostileAssertion();
  LedgerOp HostileVote();
  LedgerOp HostileRetraction();
  Task<Status> Query(uint64_t client);
  Task<Status> QueryIndex(size_t pair);
  Task<Status> QueryResolve(size_t pair);
  Task<Status> QueryAudit(size_t pair);
  Task<Status> QueryKnown();

  // After heal.
  Task<void> Verify();
  Task<Result<ledger::LedgerScan>> CheckedScan(int round);
  Task<void> CheckLenses(const ledger::LedgerScan& scan);
  Task<void> CheckAuditTrails();

  sim::World* world_ = nullptr;
  sim::Machine* machine_ = nullptr;
  std::unique_ptr<simfs::SimLevelEnv> env_;
  std::unique_ptr<simfs::SimLevelDbHost> host_;
  std::unique_ptr<DeterministicRandom> fs_random_;
  std::unique_ptr<DeterministicRandom> ledger_random_;
  std::unique_ptr<simfs::SimFileSystem> fs_;
  std::unique_ptr<kv::KvStore> store_;
  std::unique_ptr<txn::TxnStore> txns_;
  std::unique_ptr<ledger::Ledger> ledger_;
  std::unique_ptr<Event> store_open_;
  std::unique_ptr<Event> clients_finished_;
  int64_t clients_ = 0;
  int64_t ops_remaining_ = 0;
  int64_t active_clients_ = 0;
  bool restart_requested_ = false;

  std::vector<Agent> agents_;
  std::vector<std::pair<std::string, std::string>> pairs_;
  int64_t tick_ = 0;
  int64_t last_assertion_ts_ = 0;
  properties::LedgerHistory history_;
  std::vector<Known> known_;
  std::map<AssertionId, size_t> known_at_;  // id -> index in known_.
  std::set<AssertionId> retract_acked_;
  std::vector<AssertionId> doubtful_;          // Submitted, outcome unknown.
  std::vector<size_t> vote_ops_;               // Valid vote submissions, by history index.
  std::map<std::string, size_t> valid_votes_;  // Valid votes sent, by signature.
  std::map<size_t, Audits> audits_;            // By pair.
  std::vector<ledger::LedgerScan> scans_;
  sim::Check final_ = sim::Check::Pass();
  bool verified_ = false;
};

// --- Setup and the process ---

void Arena::setup(sim::World& world) {
  world_ = &world;
  machine_ = &world.add_machine("db");
  const int64_t agents = world.param("agents", world.random().range(20, 200), 4, 1000);
  clients_ = world.param("clients", world.random().range(8, 24), 1, 256);
  ops_remaining_ = world.param("ops", 200, 0, 1'000'000);
  for (int64_t i = 0; i < agents; ++i) {
    std::string seed;
    for (int w = 0; w < 4; ++w) {
      const uint64_t x = world.random().next_u64();
      for (int b = 0; b < 8; ++b) seed.push_back(static_cast<char>(x >> (8 * b)));
    }
    Agent a;
    a.keys = ledger::KeyPairFromSeed(seed);
    // One attacker (never acts validly), a fifth trolls, a twentieth heavy voters.
    a.role = i == 0                                                ? Role::kAttacker
             : i <= agents / 5                                     ? Role::kTroll
             : i <= agents / 5 + std::max<int64_t>(1, agents / 20) ? Role::kHeavy
                                                                   : Role::kNormal;
    agents_.push_back(std::move(a));
  }
  for (const std::string& s : Subjects()) {
    for (const std::string& p : Predicates()) pairs_.emplace_back(s, p);
  }
  env_ = std::make_unique<simfs::SimLevelEnv>(machine_->disk(), world.clock(), world.trace());
  host_ = std::make_unique<simfs::SimLevelDbHost>(*env_);
  simfs::IoLatency latency;
  latency.slow_io_p = world.plan().rate(sim::FaultKind::kSlow);
  fs_random_ = std::make_unique<DeterministicRandom>(world.random().next_u64());
  ledger_random_ = std::make_unique<DeterministicRandom>(world.random().next_u64());
  fs_ = std::make_unique<simfs::SimFileSystem>(machine_->disk(), world.scheduler(), *fs_random_,
                                               latency);
  store_open_ = std::make_unique<Event>(world.scheduler(), "store-open");
  clients_finished_ = std::make_unique<Event>(world.scheduler(), "clients-finished");
  if (ops_remaining_ == 0) clients_finished_->set();
  machine_->on_boot = [this](sim::Machine& m) { world_->spawn_on(m, Boot(), "boot"); };
  machine_->on_halt = [this](sim::Machine&) {
    store_open_->reset();
    DropStore();  // The process died: no clean close. Its submissions in flight stay in doubt.
  };
  world.boot(*machine_);
}

std::string Arena::pending() const {
  size_t in_doubt = 0;
  for (const LedgerOp& op : history_.ops()) in_doubt += op.in_doubt() ? 1 : 0;
  return std::to_string(ops_remaining_) + " ops unissued, " + std::to_string(active_clients_) +
         " clients active, " + std::to_string(in_doubt) + " submissions in doubt, store " +
         (store_ ? "open" : "closed");
}

kv::KvOptions Arena::Options() const {
  kv::KvOptions o;
  o.dir = kDir;
  o.wal.segment_bytes = 256 * 1024;
  o.wal.batch_bytes_max = 64 * 1024;
  o.wal.record_bytes_max = 64 * 1024;
  o.key_bytes_max = 1024;         // Index keys hold a subject and a predicate.
  o.value_bytes_max = 48 * 1024;  // An assertion with 4 KiB of text; an audit record.
  o.checkpoint_every_records = 50;
  return o;
}

void Arena::DropStore() {
  ledger_.reset();
  txns_.reset();
  env_->drain_background_work();
  store_.reset();
  env_->drain_background_work();
}

Task<void> Arena::Boot() {
  auto& sched = world_->scheduler();
  for (int attempt = 0; attempt < kOpenAttemptsMax; ++attempt) {
    auto opened = co_await kv::KvStore::Open(*fs_, sched, *host_, Options());
    if (opened.ok()) {
      store_ = std::move(*opened);
      txns_ = std::make_unique<txn::TxnStore>(*store_, sched, world_->clock());
      ledger_ = std::make_unique<ledger::Ledger>(*txns_, sched, *ledger_random_);
      restart_requested_ = false;
      break;
    }
    Note("store open failed: " + opened.status().ToString());
    if (opened.status().IsInvalidArgument() || opened.status().IsCorruption()) {
      Fail("no-corruption", "the store refused to open: " + opened.status().ToString());
      co_return;
    }
    co_await sched.sleep_for(Duration(random().range(100, 5000)));
  }
  if (store_ == nullptr) co_return;  // The liveness check reports it.
  store_open_->set();
  sched.spawn(simfs::RunLevelDbBackground(sched, random(), *env_, Duration(2000)),
              "leveldb-background");
  for (int64_t c = 0; c < clients_ && ops_remaining_ > 0; ++c) {
    sched.spawn(Client(static_cast<uint64_t>(c)), "client-" + std::to_string(c));
  }
}

Task<void> Arena::Client(uint64_t client) {
  ClientGuard guard(this);
  int unavailable = 0;
  while (ops_remaining_ > 0 && !world_->failed()) {
    if (!BUGGIFY) co_await world_->scheduler().sleep_for(Duration(random().range(0, 1000)));
    if (ops_remaining_ == 0) break;
    --ops_remaining_;
    Status s = co_await RunOp(client);
    if (s.ok() || s.IsInvalidArgument() || s.IsNotFound() || s.IsConflict() || s.IsTooOld() ||
        s.IsNoSpace()) {
      unavailable = 0;
      continue;
    }
    if (s.IsCorruption()) {
      Fail("no-corruption", "client " + std::to_string(client) + ": " + s.ToString());
      co_return;
    }
    // One Unavailable writes nothing and may be a one-off; a second in a row, Unknown or an
    // I/O error: the store fail-stopped. Restart and let recovery decide.
    if (s.IsUnavailable() && unavailable++ == 0) continue;
    if (!restart_requested_) world_->request_restart(*machine_);
    restart_requested_ = true;
    co_return;
  }
}

Task<Status> Arena::RunOp(uint64_t client) {
  const uint64_t pick = random().uniform(1000);
  if (known_.empty() || pick < 180) co_return co_await AssertNew(client);
  if (pick < 240) co_return co_await Supersede(client);
  if (pick < 470) co_return co_await CastVote(client);
  if (pick < 530) co_return co_await Revote(client, /*withdraw=*/false);
  if (pick < 570) co_return co_await Revote(client, /*withdraw=*/true);
  if (pick < 600) co_return co_await RetractAssertion(client);
  if (pick < 650) co_return co_await Replay(client);
  if (pick < 710) co_return co_await Forge(client);
  if (pick < 770) co_return co_await Hostile(client);
  co_return co_await Query(client);
}

// --- Submissions ---

Task<Status> Arena::Send(uint64_t client, LedgerOp op) {
  op.client = client;
  const Kind kind = op.kind;
  // Copies: the history may grow (and move) while this call waits.
  const Assertion assertion = op.assertion;
  const Vote vote = op.vote;
  const Retraction retraction = op.retraction;
  const bool valid_vote = op.valid && kind == Kind::kVote;
  const size_t index = history_.invoke(std::move(op), step());
  // Known before it is sent: a read may see it before its client hears back.
  if (valid_vote) valid_votes_.emplace(vote.signature, index);
  ledger::Ledger& l = *ledger_;
  Status s;
  std::optional<AssertionId> id;
  if (kind == Kind::kAssertion) {
    Result<AssertionId> r = co_await l.submit(assertion);
    s = r.status();
    if (r.ok()) id = *r;
  } else if (kind == Kind::kVote) {
    s = co_await l.vote(vote);
  } else {
    s = co_await l.retract(retraction);
  }
  history_.complete(index, s, step());
  Judge(index, id);
  co_return s;
}

// What one completed submission tells: a violation at once, or what the clients now know.
void Arena::Judge(size_t index, const std::optional<AssertionId>& id) {
  const LedgerOp& op = history_.op(index);
  Note(op.ToString());
  if (Status s = properties::CheckOutcome(op); !s.ok()) {
    Fail("hostile-refused", s.message());
    return;
  }
  if (!op.valid) return;
  if (op.kind == Kind::kVote) vote_ops_.push_back(index);
  if (op.kind == Kind::kRetraction && op.acked() &&
      op.retraction.body.kind == RetractionBody::Kind::kAssertion) {
    retract_acked_.insert(op.retraction.body.assertion);
  }
  if (op.kind != Kind::kAssertion) return;
  Result<AssertionId> expected = ledger::ComputeId(op.assertion.body);
  if (!expected.ok()) {
    Fail("ledger-ids", "a valid assertion has no id: " + expected.status().ToString());
    return;
  }
  if (op.in_doubt()) doubtful_.push_back(*expected);
  if (op.acked() && *id != *expected) {
    Fail("ledger-ids", "submit acknowledged id " + ledger::Hex(*id) + ", but the body hashes to " +
                           ledger::Hex(*expected) + ": " + op.ToString());
    return;
  }
  // A fresh assertion without a parent has nothing in the store to clash with.
  if (op.outcome == LedgerOp::Outcome::kRefused && !op.assertion.body.parent.has_value() &&
      op.what.empty()) {
    Fail("api", "a valid new assertion was refused: " + op.ToString());
    return;
  }
  if (op.acked() && known_at_.count(*expected) == 0) {
    size_t agent = 0;
    while (agents_[agent].keys.public_key != op.assertion.body.agent) ++agent;
    size_t pair = 0;
    while (pairs_[pair].first != op.assertion.body.subject ||
           pairs_[pair].second != op.assertion.body.predicate) {
      ++pair;
    }
    known_at_[*expected] = known_.size();
    known_.push_back(Known{*expected, agent, pair, op.complete_step});
  }
}

size_t Arena::PickAgent(Role role) {
  for (int attempt = 0; attempt < 64; ++attempt) {
    const size_t a = 1 + random().uniform(agents_.size() - 1);
    if (agents_[a].role == role) return a;
  }
  return 1 + random().uniform(agents_.size() - 1);  // Any but the attacker.
}

const Arena::Known* Arena::PickKnown(bool hot) {
  if (known_.empty()) return nullptr;
  if (!hot) return &known_[random().uniform(known_.size())];
  // The hot set: the first few assertions not known to be retracted, where voters pile up (and
  // race).
  std::vector<const Known*> live;
  for (size_t i = 0; i < known_.size() && live.size() < kHotAssertions; ++i) {
    if (retract_acked_.count(known_[i].id) == 0) live.push_back(&known_[i]);
  }
  if (live.empty()) return &known_[random().uniform(known_.size())];
  return live[random().uniform(live.size())];
}

AssertionBody Arena::NewBody(size_t agent) {
  AssertionBody body;
  body.agent = agents_[agent].keys.public_key;
  const auto& [subject, predicate] = pairs_[random().uniform(pairs_.size())];
  body.subject = subject;
  body.predicate = predicate;
  switch (random().uniform(5)) {
    case 0:
      body.object = random().chance(0.02) ? LongText(ledger::kTextBytesMax)
                                          : Texts()[random().uniform(Texts().size())];
      break;
    case 1:
      body.object = random().chance(0.1) ? -0.0 : static_cast<double>(random().range(-5, 5)) / 4;
      break;
    case 2:
      body.object = random().chance(0.5);
      break;
    case 3:
      body.object = ledger::Reference{known_.empty() ? std::string(ledger::kIdBytes, 'r')
                                                     : PickKnown(false)->id};
      break;
    default:
      body.object = std::to_string(random().uniform(1000));
      break;
  }
  // Few distinct confidences and some shared timestamps, so that ties reach every tie-break.
  body.confidence = static_cast<double>(random().uniform(5)) / 4;
  body.timestamp_us =
      last_assertion_ts_ != 0 && random().chance(0.15) ? last_assertion_ts_ : NextTs();
  last_assertion_ts_ = body.timestamp_us;
  return body;
}

LedgerOp Arena::Valid(Kind kind) {
  LedgerOp op;
  op.kind = kind;
  op.valid = true;
  return op;
}

Vote Arena::SignedVote(size_t voter, const AssertionId& id, double weight) {
  Result<Vote> v = ledger::SignVote(VoteBody{id, "", weight, NextTs()}, agents_[voter].keys);
  assert(v.ok());
  return std::move(v).value();
}

Retraction Arena::SignedRetraction(size_t signer, RetractionBody::Kind kind,
                                   const AssertionId& id) {
  Result<Retraction> r =
      ledger::SignRetraction(RetractionBody{kind, id, "", NextTs()}, agents_[signer].keys);
  assert(r.ok());
  return std::move(r).value();
}

double Arena::WeightFor(Role role) {
  switch (role) {
    case Role::kTroll:  // Tiny: a few micro-units, down to the least weight allowed.
      return ledger::kWeightMin * static_cast<double>(random().range(1, 3));
    case Role::kHeavy:
      return random().chance(0.2) ? ledger::kWeightMax
                                  : static_cast<double>(random().range(100, 1000));
    default:  // Few values, so that consensus ties happen.
      return std::vector<double>{0.25, 0.5, 1.0, 2.0}[random().uniform(4)];
  }
}

Task<Status> Arena::AssertNew(uint64_t client) {
  LedgerOp op = Valid(Kind::kAssertion);
  const size_t agent = 1 + random().uniform(agents_.size() - 1);
  Result<Assertion> a = ledger::SignAssertion(NewBody(agent), agents_[agent].keys);
  assert(a.ok());
  op.assertion = std::move(a).value();
  co_return co_await Send(client, std::move(op));
}

// A new version of one of the agent's own assertions (the parent it supersedes).
Task<Status> Arena::Supersede(uint64_t client) {
  const Known& parent = *PickKnown(false);
  LedgerOp op = Valid(Kind::kAssertion);
  op.what = "supersedes " + Short(parent.id);
  AssertionBody body = NewBody(parent.agent);
  body.subject = pairs_[parent.pair].first;
  body.predicate = pairs_[parent.pair].second;
  body.parent = parent.id;
  Result<Assertion> a = ledger::SignAssertion(std::move(body), agents_[parent.agent].keys);
  assert(a.ok());
  op.assertion = std::move(a).value();
  co_return co_await Send(client, std::move(op));
}

// A vote by a troll, a heavy or a normal voter, mostly on the hot set; sometimes on an
// assertion whose submission is in doubt (NotFound if it was never stored).
Task<Status> Arena::CastVote(uint64_t client) {
  const uint64_t r = random().uniform(10);
  const Role role = r < 5 ? Role::kTroll : (r < 6 ? Role::kHeavy : Role::kNormal);
  const size_t voter = PickAgent(role);
  AssertionId target = PickKnown(random().chance(0.6))->id;
  if (!doubtful_.empty() && random().chance(0.05)) {
    target = doubtful_[random().uniform(doubtful_.size())];
  }
  LedgerOp op = Valid(Kind::kVote);
  op.vote = SignedVote(voter, target, WeightFor(agents_[voter].role));
  const bool duplicate = random().chance(0.1);
  LedgerOp copy = op;
  Status s = co_await Send(client, std::move(op));
  if (!duplicate || !(s.ok() || s.IsInvalidArgument() || s.IsNotFound())) co_return s;
  copy.what = "duplicate";
  co_return co_await Send(client, std::move(copy));
}

// A newer vote (another weight) or a withdrawal, by a voter who voted before.
Task<Status> Arena::Revote(uint64_t client, bool withdraw) {
  if (vote_ops_.empty()) co_return co_await CastVote(client);
  const Vote before = history_.op(vote_ops_[random().uniform(vote_ops_.size())]).vote;
  size_t voter = 0;
  while (agents_[voter].keys.public_key != before.body.voter) ++voter;
  if (withdraw) {
    LedgerOp op = Valid(Kind::kRetraction);
    op.retraction = SignedRetraction(voter, RetractionBody::Kind::kVote, before.body.assertion);
    co_return co_await Send(client, std::move(op));
  }
  LedgerOp op = Valid(Kind::kVote);
  op.what = "re-vote";
  op.vote = SignedVote(voter, before.body.assertion, WeightFor(agents_[voter].role));
  co_return co_await Send(client, std::move(op));
}

Task<Status> Arena::RetractAssertion(uint64_t client) {
  const Known& k = *PickKnown(false);
  LedgerOp op = Valid(Kind::kRetraction);
  op.retraction = SignedRetraction(k.agent, RetractionBody::Kind::kAssertion, k.id);
  co_return co_await Send(client, std::move(op));
}

// An earlier valid submission again, byte for byte: a vote or withdrawal replayed (refused if
// something newer stands), or an assertion resubmitted (Ok, the same id).
Task<Status> Arena::Replay(uint64_t client) {
  std::vector<size_t> candidates;
  for (int attempt = 0; attempt < 8 && candidates.empty(); ++attempt) {
    const size_t i = random().uniform(history_.size());
    if (history_.op(i).valid) candidates.push_back(i);
  }
  if (candidates.empty()) co_return co_await CastVote(client);
  LedgerOp op = history_.op(candidates.front());
  op.what = "replay";
  co_return co_await Send(client, std::move(op));
}

// A record naming a real agent and a real target whose signature does not verify.
Task<Status> Arena::Forge(uint64_t client) {
  const Known& k = *PickKnown(random().chance(0.5));
  const size_t victim = random().chance(0.5) ? k.agent : PickAgent(Role::kNormal);
  const KeyPair& keys = agents_[victim].keys;
  const KeyPair& attacker = agents_[0].keys;
  LedgerOp op;
  op.valid = false;
  const uint64_t kind = random().uniform(3);
  const uint64_t how = random().uniform(4);
  std::string form;
  std::string bare;
  if (kind == 0) {
    op.kind = Kind::kAssertion;
    op.field = "assertion signature";
    op.assertion.body = NewBody(victim);
    form = *ledger::SignedForm(op.assertion.body);
    bare = *ledger::EncodeAssertion(op.assertion.body);
  } else if (kind == 1) {
    op.kind = Kind::kVote;
    op.field = "vote signature";
    op.vote.body = VoteBody{k.id, keys.public_key, WeightFor(Role::kHeavy), NextTs()};
    form = *ledger::SignedForm(op.vote.body);
    bare = *ledger::EncodeVote(op.vote.body);
  } else {
    op.kind = Kind::kRetraction;
    op.field = "retraction signature";
    op.retraction.body = RetractionBody{RetractionBody::Kind::kAssertion, k.id,
                                        agents_[k.agent].keys.public_key, NextTs()};
    form = *ledger::SignedForm(op.retraction.body);
    bare = *ledger::EncodeRetraction(op.retraction.body);
  }
  const KeyPair& signer = kind == 2 ? agents_[k.agent].keys : keys;
  std::string signature;
  if (how == 0) {
    op.what = "signed by another key";
    signature = *ledger::SignDetached(form, attacker.secret_key);
  } else if (how == 1) {
    signature = *ledger::SignDetached(form, signer.secret_key);
    const uint64_t bit = random().uniform(8 * signature.size());
    signature[bit / 8] = static_cast<char>(signature[bit / 8] ^ (1 << (bit % 8)));
    op.what = "bit " + std::to_string(bit) + " flipped";
  } else if (how == 2) {
    op.what = "body changed after signing";
    signature = *ledger::SignDetached(form, signer.secret_key);
    if (kind == 0) op.assertion.body.timestamp_us += 1;
    if (kind == 1) op.vote.body.timestamp_us += 1;
    if (kind == 2) op.retraction.body.timestamp_us += 1;
  } else {
    op.what = "signed over the bare encoding";
    signature = *ledger::SignDetached(bare, signer.secret_key);
  }
  op.assertion.signature = signature;
  op.vote.signature = signature;
  op.retraction.signature = signature;
  co_return co_await Send(client, std::move(op));
}

Task<Status> Arena::Hostile(uint64_t client) {
  const uint64_t r = random().uniform(3);
  LedgerOp op = r == 0 ? HostileAssertion() : (r == 1 ? HostileVote() : HostileRetraction());
  op.valid = false;
  co_return co_await Send(client, std::move(op));
}

// An assertion that breaks one validation rule, otherwise valid and signed by its agent.
LedgerOp Arena::HostileAssertion() {
  const double kInf = std::numeric_limits<double>::infinity();
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  const size_t agent = PickAgent(Role::kNormal);
  LedgerOp op;
  op.kind = Kind::kAssertion;
  AssertionBody& b = op.assertion.body;
  b = NewBody(agent);
  bool sign = true;
  // Confidence out of range five times in sixteen (what ledger-confidence-unchecked lets in).
  const uint64_t pick = random().uniform(16);
  switch (pick >= 13 ? 6 : pick) {
    case 0:
      b.subject = random().chance(0.5) ? "" : LongText(ledger::kSubjectBytesMax + 1);
      std::tie(op.field, op.what) = std::pair("assertion subject", "out of bounds");
      break;
    case 1:
      b.subject = std::string("ber\0lin", 7);
      std::tie(op.field, op.what) = std::pair("assertion subject", "NUL");
      break;
    case 2:
      b.predicate = BadUtf8()[random().uniform(BadUtf8().size())];
      std::tie(op.field, op.what) = std::pair("assertion predicate", "invalid UTF-8");
      break;
    case 3:
      // 1 MiB is rare: it is slow to sign.
      b.object = random().chance(0.1) ? LongText(1 << 20) : LongText(ledger::kTextBytesMax + 1);
      std::tie(op.field, op.what) = std::pair("assertion object text", "over-long");
      break;
    case 4:
      b.object = std::string("a\0b", 3);
      std::tie(op.field, op.what) = std::pair("assertion object text", "NUL");
      break;
    case 5:
      b.object = random().chance(0.5) ? kNaN : -kInf;
      std::tie(op.field, op.what) = std::pair("assertion object number", "not finite");
      break;
    case 6:
    case 7:
      b.confidence = std::vector<double>{kNaN,    kInf, -kInf, -0.5, 1.5, std::nextafter(1.0, 2.0),
                                         -1e-300, 1e308}[random().uniform(8)];
      op.field = "assertion confidence";
      op.what = "confidence " + Number(b.confidence);
      break;
    case 8:
      b.timestamp_us = random().chance(0.5) ? ledger::kTimestampMaxUs : -1;
      std::tie(op.field, op.what) = std::pair("assertion timestamp", "out of range");
      break;
    case 9:
      b.agent.resize(ledger::kPublicKeyBytes - 1);
      std::tie(op.field, op.what) = std::pair("assertion agent", "short key");
      sign = false;
      break;
    case 10:
      b.parent = std::string(ledger::kIdBytes + 1, 'p');
      std::tie(op.field, op.what) = std::pair("assertion parent", "long id");
      break;
    case 11:
      b.object = ledger::Reference{"short"};
      std::tie(op.field, op.what) = std::pair("assertion object reference", "short id");
      break;
    default:
      op.assertion.signature = std::string(ledger::kSignatureBytes + 1, 's');
      std::tie(op.field, op.what) = std::pair("assertion signature", "long signature");
      sign = false;
      break;
  }
  if (op.assertion.signature.empty()) {
    op.assertion.signature = sign ? SignOrFill(b, agents_[agent].keys) : kFillerSignature;
  }
  return op;
}

// A vote that breaks one rule, otherwise valid and signed by its voter; or a valid vote for an
// assertion that does not exist (NotFound).
LedgerOp Arena::HostileVote() {
  const double kInf = std::numeric_limits<double>::infinity();
  const double kNaN = std::numeric_limits<double>::quiet_NaN();
  const size_t voter = PickAgent(Role::kTroll);
  LedgerOp op;
  op.kind = Kind::kVote;
  VoteBody& b = op.vote.body;
  b = VoteBody{PickKnown(true)->id, agents_[voter].keys.public_key, 1.0, NextTs()};
  switch (random().uniform(6)) {
    case 0:
    case 1:
      b.weight = std::vector<double>{kNaN,
                                     kInf,
                                     -kInf,
                                     -1.0,
                                     0.0,
                                     -0.0,
                                     ledger::kWeightMin / 2,
                                     std::nextafter(ledger::kWeightMax, kInf),
                                     1e300,
                                     -ledger::kWeightMin}[random().uniform(10)];
      op.field = "vote weight";
      op.what = "weight " + Number(b.weight);
      break;
    case 2:
      b.timestamp_us = random().chance(0.5) ? ledger::kTimestampMinUs - 1 : INT64_MAX;
      std::tie(op.field, op.what) = std::pair("vote timestamp", "out of range");
      break;
    case 3:
      b.assertion.resize(random().chance(0.5) ? 0 : ledger::kIdBytes * 2, 'x');
      std::tie(op.field, op.what) = std::pair("vote assertion", "id length");
      break;
    case 4:
      op.vote.signature = std::string(random().chance(0.5) ? 1 : 63, 's');  // Never empty.
      std::tie(op.field, op.what) = std::pair("vote signature", "signature length");
      break;
    default:
      b.assertion = std::string(ledger::kIdBytes, '\x5a');  // No assertion has this id.
      op.what = "vote for a missing assertion";
      break;
  }
  if (op.vote.signature.empty()) op.vote.signature = SignOrFill(b, agents_[voter].keys);
  return op;
}

// A retraction that breaks one rule; or one, validly signed, that the store must refuse: of
// another agent's assertion, or withdrawing a vote never cast (the attacker never votes).
LedgerOp Arena::HostileRetraction() {
  const Known& k = *PickKnown(false);
  LedgerOp op;
  op.kind = Kind::kRetraction;
  RetractionBody& b = op.retraction.body;
  b = RetractionBody{RetractionBody::Kind::kAssertion, k.id, agents_[k.agent].keys.public_key,
                     NextTs()};
  const KeyPair* signer = &agents_[k.agent].keys;
  switch (random().uniform(6)) {
    case 0:
      b.kind = static_cast<RetractionBody::Kind>(std::vector<int>{0, 3, 255}[random().uniform(3)]);
      std::tie(op.field, op.what) = std::pair("retraction kind", "unknown kind");
      break;
    case 1:
      b.timestamp_us = 0;
      std::tie(op.field, op.what) = std::pair("retraction timestamp", "out of range");
      break;
    case 2:
      b.signer.resize(ledger::kPublicKeyBytes + 3, 'k');
      std::tie(op.field, op.what) = std::pair("retraction signer", "key length");
      break;
    case 3:
      b.signer = agents_[0].keys.public_key;
      signer = &agents_[0].keys;
      op.what = "retraction by another agent";
      break;
    default:
      b.kind = RetractionBody::Kind::kVote;
      b.signer = agents_[0].keys.public_key;
      signer = &agents_[0].keys;
      op.what = "withdrawal of a vote never cast";
      break;
  }
  op.retraction.signature = SignOrFill(b, *signer);
  return op;
}

// --- Queries ---

Task<Status> Arena::Query(uint64_t) {
  const size_t pair = random().uniform(pairs_.size());
  switch (random().uniform(5)) {
    case 0:
      co_return co_await QueryIndex(pair);
    case 1:
    case 2:
      co_return co_await QueryResolve(pair);
    case 3:
      co_return co_await QueryAudit(pair);
    default:
      co_return co_await QueryKnown();
  }
}

// An index read (by subject and predicate, by subject, or by agent): only matching records, each
// under the id its body hashes to, oldest first; and every assertion acknowledged before the
// read began.
Task<Status> Arena::QueryIndex(size_t pair) {
  const auto [subject, predicate] = pairs_[pair];
  const uint64_t which = random().uniform(3);
  const size_t agent = PickKnown(false)->agent;
  const std::string key = agents_[agent].keys.public_key;
  auto matches = [&](const AssertionBody& b) {
    if (which == 0) return b.subject == subject && b.predicate == predicate;
    if (which == 1) return b.subject == subject;
    return b.agent == key;
  };
  const std::string name = which == 0   ? "by_subject_predicate"
                           : which == 1 ? "by_subject"
                                        : "by_agent";
  const uint64_t began = step();
  Result<std::vector<ledger::StoredAssertion>> rows = Status::Unavailable("not read");
  if (which == 0) {
    rows = co_await ledger_->by_subject_predicate(subject, predicate, kQueryLimit);
  } else if (which == 1) {
    rows = co_await ledger_->by_subject(subject, kQueryLimit);
  } else {
    rows = co_await ledger_->by_agent(key, kQueryLimit);
  }
  if (!rows.ok()) co_return rows.status();
  std::set<AssertionId> seen;
  for (size_t i = 0; i < rows->size(); ++i) {
    const ledger::StoredAssertion& s = (*rows)[i];
    const AssertionBody& b = s.assertion.body;
    Result<AssertionId> id = ledger::ComputeId(b);
    if (!matches(b) || !id.ok() || *id != s.id) {
      Fail("ledger-reads", name + " returned " + Short(s.id) +
                               ", not a matching record under "
                               "its hash");
      co_return Status::Ok();
    }
    if (i > 0) {
      const ledger::StoredAssertion& p = (*rows)[i - 1];
      if (std::pair(p.assertion.body.timestamp_us, p.id) >= std::pair(b.timestamp_us, s.id)) {
        Fail("ledger-reads", name + " is not in (timestamp, id) order");
        co_return Status::Ok();
      }
    }
    seen.insert(s.id);
  }
  if (rows->size() >= kQueryLimit) co_return Status::Ok();
  for (const Known& k : known_) {
    const bool wanted = which == 0   ? k.pair == pair
                        : which == 1 ? pairs_[k.pair].first == subject
                                     : k.agent == agent;
    if (wanted && k.acked_step < began && seen.count(k.id) == 0) {
      Fail("durability", "assertion " + Short(k.id) + ", acknowledged at step " +
                             std::to_string(k.acked_step) + ", is missing from " + name +
                             " at step " + std::to_string(began));
      co_return Status::Ok();
    }
  }
  co_return Status::Ok();
}

Task<Status> Arena::QueryResolve(size_t pair) {
  const auto [subject, predicate] = pairs_[pair];
  LensOptions o;
  o.rule = kRules[random().uniform(3)];
  o.include_superseded = random().chance(0.2);
  o.include_retracted = random().chance(0.2);
  const bool record = random().chance(0.3);
  if (record) ++audits_[pair].in_doubt;
  Result<Resolution> r = co_await ledger_->resolve(subject, predicate, o, record);
  if (record && !r.status().IsUnknown()) --audits_[pair].in_doubt;
  if (!r.ok()) co_return r.status();
  if (Status s = ledger::CheckResolution(*r);
      !s.ok() || r->subject != subject || r->predicate != predicate || r->rule != o.rule) {
    Fail("ledger-lens", "resolve returned a malformed resolution: " + s.ToString());
    co_return Status::Ok();
  }
  if (record) audits_[pair].acked.push_back(*r);
  co_return Status::Ok();
}

Task<Status> Arena::QueryAudit(size_t pair) {
  const auto [subject, predicate] = pairs_[pair];
  const std::vector<Resolution> acked = audits_[pair].acked;  // Acknowledged before this read.
  Result<std::vector<Resolution>> trail =
      co_await ledger_->audit_trail(subject, predicate, kQueryLimit);
  if (!trail.ok()) co_return trail.status();
  if (trail->size() >= kQueryLimit) co_return Status::Ok();
  for (const Resolution& want : acked) {
    if (std::count(trail->begin(), trail->end(), want) <
        std::count(acked.begin(), acked.end(), want)) {
      Fail("ledger-audit", "an acknowledged audit record of (" + subject + ", " + predicate +
                               ") is missing from the trail");
      co_return Status::Ok();
    }
  }
  co_return Status::Ok();
}

// get and tally of an acknowledged assertion; its standing votes.
Task<Status> Arena::QueryKnown() {
  const Known k = *PickKnown(random().chance(0.5));
  Result<std::optional<ledger::StoredAssertion>> got = co_await ledger_->get(k.id);
  if (!got.ok()) co_return got.status();
  if (!got->has_value() || (*got)->id != k.id) {
    Fail("durability", "get: acknowledged assertion " + Short(k.id) + " is missing");
    co_return Status::Ok();
  }
  Result<ledger::Tally> tally = co_await ledger_->tally(k.id);
  if (!tally.ok()) co_return tally.status();
  if (tally->votes < 0 || tally->weight_micros < 0 ||
      (tally->votes == 0) != (tally->weight_micros == 0)) {
    Fail("ledger-tally", "tally of " + Short(k.id) + " is " + std::to_string(tally->votes) +
                             " votes / " + std::to_string(tally->weight_micros) + " micros");
    co_return Status::Ok();
  }
  Result<std::vector<Vote>> votes = co_await ledger_->votes_of(k.id, kQueryLimit);
  if (!votes.ok()) co_return votes.status();
  for (const Vote& v : *votes) {
    auto sent = valid_votes_.find(v.signature);
    if (v.body.assertion != k.id || sent == valid_votes_.end() ||
        !(history_.op(sent->second).vote == v)) {
      Fail("ledger-reads", "votes_of " + Short(k.id) +
                               " returned a vote that is not its own "
                               "or was never submitted as valid");
      co_return Status::Ok();
    }
  }
  co_return Status::Ok();
}

// --- After heal ---

// Twice: cut the power (or restart), recover, scan and check; the two scans must agree. Then
// the lenses and the audit trails, on the recovered store.
Task<void> Arena::Verify() {
  if (!done()) co_await clients_finished_->wait();
  for (int round = 0; round < 2 && !world_->failed(); ++round) {
    if (machine_->up()) {
      if (world_->plan().enabled(sim::FaultKind::kCrash)) {
        world_->power_loss(*machine_);
        world_->boot(*machine_);
      } else {
        world_->restart(*machine_);
      }
    }
    co_await store_open_->wait();
    if (world_->failed()) co_return;
    Result<ledger::LedgerScan> scan = co_await CheckedScan(round);
    if (!scan.ok()) co_return;
    scans_.push_back(std::move(scan).value());
  }
  if (world_->failed()) co_return;
  co_await CheckLenses(scans_.back());
  if (world_->failed()) co_return;
  co_await CheckAuditTrails();
  if (world_->failed()) co_return;
  verified_ = true;
  size_t counts[5] = {0, 0, 0, 0, 0};
  for (const LedgerOp& op : history_.ops()) ++counts[static_cast<int>(op.outcome)];
  const ledger::LedgerScan& s = scans_.back();
  Note("submissions: " + std::to_string(counts[1]) + " ok, " + std::to_string(counts[2]) +
       " refused, " + std::to_string(counts[3]) + " failed, " + std::to_string(counts[4]) +
       " unknown, " + std::to_string(counts[0]) + " pending; stored: " +
       std::to_string(s.assertions.size()) + " assertions, " + std::to_string(s.votes.size()) +
       " votes, " + std::to_string(s.audit_records) + " audit records");
}

Task<Result<ledger::LedgerScan>> Arena::CheckedScan(int round) {
  Result<ledger::LedgerScan> scan = co_await ledger_->scan();
  if (!scan.ok()) {
    Fail("durability", "scanning the ledger after recovery failed: " + scan.status().ToString());
    co_return scan.status();
  }
  if (Status s = ledger::CheckScan(*scan); !s.ok()) {
    Fail("ledger-scan", s.message());
    co_return s;
  }
  // The second round must read what the first read, so the history is checked once.
  if (round == 0) {
    if (Status s = properties::CheckLedgerHistory(history_, *scan); !s.ok()) {
      Fail("ledger-history", s.message());
      co_return s;
    }
  } else {
    const ledger::LedgerScan& first = scans_.front();
    bool same = first.assertions.size() == scan->assertions.size() && first.votes == scan->votes &&
                first.withdrawn_votes == scan->withdrawn_votes &&
                first.retractions == scan->retractions &&
                first.audit_records == scan->audit_records;
    for (size_t i = 0; same && i < first.assertions.size(); ++i) {
      const ledger::StoredAssertion& a = first.assertions[i];
      const ledger::StoredAssertion& b = scan->assertions[i];
      same = a.id == b.id && a.assertion == b.assertion && a.retracted == b.retracted &&
             a.superseded == b.superseded && a.tally == b.tally;
    }
    if (!same) {
      Fail("recovery-idempotent", "a second recovery scanned a different ledger");
      co_return Status::Corruption("differs");
    }
  }
  co_return scan;
}

// Every (subject, predicate) under every rule: Ledger::resolve equals the reference lens.
Task<void> Arena::CheckLenses(const ledger::LedgerScan& scan) {
  for (const auto& [subject, predicate] : pairs_) {
    for (LensRule rule : kRules) {
      LensOptions o;
      o.rule = rule;
      o.include_superseded = random().chance(0.25);
      o.include_retracted = random().chance(0.25);
      Result<Resolution> got = co_await ledger_->resolve(subject, predicate, o, false);
      if (!got.ok()) {
        Fail("ledger-lens", "resolve after recovery failed: " + got.status().ToString());
        co_return;
      }
      const Resolution want = properties::ReferenceResolve(scan, subject, predicate, o);
      const std::string diff = properties::DiffResolutions(want, *got);
      if (!diff.empty()) {
        Fail("ledger-lens", "resolve(" + subject + ", " + predicate + ", " +
                                std::string(ledger::LensRuleName(rule)) + "): " + diff);
        co_return;
      }
    }
  }
}

// Every acknowledged audit record is in its pair's trail; the trail holds no more records than
// were acknowledged or are in doubt.
Task<void> Arena::CheckAuditTrails() {
  uint64_t total = 0;
  for (size_t pair = 0; pair < pairs_.size(); ++pair) {
    const auto& [subject, predicate] = pairs_[pair];
    Result<std::vector<Resolution>> trail =
        co_await ledger_->audit_trail(subject, predicate, SIZE_MAX);
    if (!trail.ok()) {
      Fail("ledger-audit", "reading the audit trail of (" + subject + ", " + predicate +
                               ") failed: " + trail.status().ToString());
      co_return;
    }
    total += trail->size();
    const Audits& a = audits_[pair];
    for (const Resolution& r : *trail) {
      if (r.subject != subject || r.predicate != predicate || !ledger::CheckResolution(r).ok()) {
        Fail("ledger-audit", "the trail of (" + subject + ", " + predicate +
                                 ") holds a record of another pair or a malformed one");
        co_return;
      }
    }
    for (const Resolution& want : a.acked) {
      if (std::count(trail->begin(), trail->end(), want) <
          std::count(a.acked.begin(), a.acked.end(), want)) {
        Fail("ledger-audit",
             "an acknowledged audit record of (" + subject + ", " + predicate + ") is lost");
        co_return;
      }
    }
    const size_t most = a.acked.size() + static_cast<size_t>(a.in_doubt);
    if (trail->size() > most) {
      Fail("ledger-audit", "the trail of (" + subject + ", " + predicate + ") holds " +
                               std::to_string(trail->size()) + " records; " + std::to_string(most) +
                               " were recorded at most");
      co_return;
    }
  }
  if (total != scans_.back().audit_records) {
    Fail("ledger-audit", "the trails hold " + std::to_string(total) + " records, the scan counts " +
                             std::to_string(scans_.back().audit_records));
  }
}

}  // namespace

KILN_REGISTER_SCENARIO(Arena);

}  // namespace kiln::scenarios
