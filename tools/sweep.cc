// kiln sim sweep (see sweep.h). The parent validates every option, then forks one child per seed,
// at most `jobs` at once. A child runs the seed and writes its report, one JSON line, to a pipe.
// The parent polls the pipes with a wall-clock deadline per seed, so that a crash or a hang of one
// seed is a reported failure with its replay command, not a lost sweep.
//
// TEST-ONLY hooks, read only here and only to test the sweep itself (tests/tools/cli_test.sh):
// KILN_SWEEP_TEST_CRASH_SEED=N makes the child of seed N abort() before it runs, and
// KILN_SWEEP_TEST_HANG_SEED=N makes it sleep (for an hour) instead of running.
#include "tools/sweep.h"

#include <poll.h>
#include <signal.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "engine/runtime/bugs.h"
#include "sim/fault_plan.h"
#include "sim/runner.h"
#include "sim/scenario.h"
#include "tools/report_format.h"

namespace kiln::tools {
namespace {

using Clock = std::chrono::steady_clock;

constexpr uint32_t kJobsMax = 1024;
constexpr int kChildExitUsage = 2;             // RunScenario refused the options.
constexpr int kChildExitOrphan = 3;            // The parent died before the child started.
constexpr size_t kReportBytesMax = 64 << 20;   // A child's report beyond this is a crash.
constexpr int64_t kBarRedrawMs = 100;          // The terminal bar's refresh period.
constexpr int64_t kPollMsMax = 1000;           // Wake at least this often (deadlines).
constexpr size_t kPlainProgressSeedsMin = 20;  // Smaller sweeps print no plain progress lines.
constexpr unsigned kHangSleepS = 3600;         // KILN_SWEEP_TEST_HANG_SEED's sleep.

int64_t MsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

bool ParseU64(std::string_view text, uint64_t* out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

std::optional<uint64_t> EnvSeed(const char* name) {
  const char* v = std::getenv(name);
  uint64_t seed = 0;
  if (v == nullptr || !ParseU64(v, &seed)) return std::nullopt;
  return seed;
}

std::string SignalName(int sig) {
  static constexpr std::pair<int, const char*> kNames[] = {
      {SIGSEGV, "SIGSEGV"}, {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},
      {SIGILL, "SIGILL"},   {SIGKILL, "SIGKILL"}, {SIGTERM, "SIGTERM"}, {SIGINT, "SIGINT"},
      {SIGTRAP, "SIGTRAP"}, {SIGPIPE, "SIGPIPE"}};
  for (const auto& [number, name] : kNames) {
    if (number == sig) return "signal " + std::to_string(sig) + " (" + name + ")";
  }
  return "signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
}

// Text for an XML attribute or element.
std::string XmlEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        // XML 1.0 admits no other control characters; a JUnit reader would reject the file.
        const bool control = static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t';
        out += control ? '?' : c;
    }
  }
  return out;
}

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // The parent is gone; nobody is left to tell.
    done += static_cast<size_t>(n);
  }
}

// Why the parent killed a child, if it did.
enum class Killed { kNo, kHang, kOversize };

std::string Dump(const nlohmann::json& j) {
  // Replace invalid UTF-8 rather than throw: a report must always get out.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// True if `j` is the report of `seed` from a child that exited with `code` (0 held, 1 failed).
bool IsReport(const nlohmann::json& j, uint64_t seed, int code) {
  if (!j.is_object() || (code != 0 && code != 1)) return false;
  const auto s = j.find("seed");
  const auto ok = j.find("ok");
  if (s == j.end() || !s->is_number_unsigned() || s->get<uint64_t>() != seed) return false;
  return ok != j.end() && ok->is_boolean() && ok->get<bool>() == (code == 0);
}

struct TestHooks {
  std::optional<uint64_t> crash_seed;
  std::optional<uint64_t> hang_seed;
};

// The child: runs one seed and writes its report as one JSON line; never returns. Exit status
// 0 held, 1 failed, 2 RunScenario refused the options (the line is then {"error": message}).
[[noreturn]] void RunChild(const SweepOptions& o, const std::string& scenario, uint64_t seed,
                           const TestHooks& hooks, int fd, pid_t parent) {
#ifdef __linux__
  // A killed sweep leaves no workers behind (checked after, in case the parent is already gone).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(kChildExitOrphan);
#endif
  if (hooks.crash_seed == seed) std::abort();
  if (hooks.hang_seed == seed) sleep(kHangSleepS);
  sim::RunOptions run;
  run.scenario = scenario;
  run.seed = seed;
  run.faults = o.faults;
  run.bugs = o.bugs;
  const auto start = Clock::now();
  auto r = sim::RunScenario(run);
  nlohmann::json j;
  int code = kChildExitUsage;
  if (!r.ok()) {
    j = {{"error", r.status().message()}};
  } else {
    j = ReportJson(*r, MsBetween(start, Clock::now()));
    code = r->ok ? 0 : 1;
  }
  WriteAll(fd, Dump(j) + "\n");
  _exit(code);
}

// What the parent keeps of a failed seed.
struct Failure {
  std::string kind;  // property | liveness | exception | crash | hang
  std::string property;
  std::string message;
  std::string faults;
  std::string replay;
};

// What the parent keeps of every seed, small so that big sweeps stay small.
struct Outcome {
  bool done = false;
  bool ok = true;
  int64_t wall_ms = 0;
  size_t failure = 0;  // Index into failures_ when !ok.
};

struct ScenarioTotals {
  uint64_t runs = 0;
  uint64_t failures = 0;
  std::map<std::string, uint64_t> fault_counts;
  uint64_t buggify_runs = 0;  // Runs with BUGGIFY on.
  // Per BUGGIFY site: runs in which it was enabled, and runs in which it fired.
  std::map<std::string, std::pair<uint64_t, uint64_t>> buggify_sites;
  std::optional<Clock::time_point> first_start;
  Clock::time_point last_end;
};

struct Child {
  pid_t pid = -1;
  int fd = -1;
  size_t task = 0;
  Clock::time_point start;
  std::string report;
};

class Sweep {
 public:
  Sweep(const SweepOptions& o, Shard shard, std::vector<const sim::ScenarioInfo*> scenarios,
        uint32_t jobs, std::FILE* out, std::FILE* err);
  Result<bool> Run();

 private:
  const sim::ScenarioInfo& ScenarioOf(size_t task) const {
    return *scenarios_[task / per_scenario_];
  }
  uint64_t SeedOf(size_t task) const {
    return o_.first_seed + (shard_.index - 1) + (task % per_scenario_) * shard_.count;
  }
  Status Spawn(size_t task);
  Status Wait();
  Status Finish(Child& c, Killed killed);
  void Record(size_t task, int64_t wall_ms, const nlohmann::json& j);
  void RecordFailure(size_t task, int64_t wall_ms, Failure f, nlohmann::json j);
  void FlushJson();
  void KillAll();
  void Say(std::FILE* f, const std::string& text);
  void Progress(bool final);
  void WriteJUnit() const;
  void PrintSummary() const;

  const SweepOptions& o_;
  const Shard shard_;
  const std::vector<const sim::ScenarioInfo*> scenarios_;
  const uint32_t jobs_;
  std::FILE* const out_;
  std::FILE* const err_;
  std::FILE* const text_;  // Failures and the summary: out_, or err_ under --json.
  const bool tty_;
  TestHooks hooks_;
  uint64_t per_scenario_ = 0;  // Seeds of each scenario in this shard.
  size_t total_ = 0;
  size_t next_ = 0;       // The next task to spawn.
  size_t next_json_ = 0;  // The next task whose JSON line is due.
  size_t done_ = 0;
  bool stopping_ = false;  // --fail-fast saw a failure.
  std::vector<Child> children_;
  std::vector<Outcome> outcomes_;
  std::vector<Failure> failures_;
  std::map<size_t, std::string> json_pending_;  // Finished out of order, not printed yet.
  std::map<std::string, ScenarioTotals> totals_;
  Clock::time_point start_;
  Clock::time_point end_;
  Clock::time_point last_bar_;
  bool bar_drawn_ = false;
  int64_t last_decile_ = 0;
};

Sweep::Sweep(const SweepOptions& o, Shard shard, std::vector<const sim::ScenarioInfo*> scenarios,
             uint32_t jobs, std::FILE* out, std::FILE* err)
    : o_(o),
      shard_(shard),
      scenarios_(std::move(scenarios)),
      jobs_(jobs),
      out_(out),
      err_(err),
      text_(o.json ? err : out),
      tty_(isatty(fileno(err)) != 0) {
  assert(jobs_ >= 1);
  assert(shard_.index >= 1 && shard_.index <= shard_.count);
  hooks_.crash_seed = EnvSeed("KILN_SWEEP_TEST_CRASH_SEED");
  hooks_.hang_seed = EnvSeed("KILN_SWEEP_TEST_HANG_SEED");
  // Indices i = index-1, index-1+count, ... below seeds.
  per_scenario_ = o.seeds >= shard.index ? (o.seeds - shard.index) / shard.count + 1 : 0;
  total_ = per_scenario_ * scenarios_.size();
  outcomes_.resize(total_);
}

Result<bool> Sweep::Run() {
  start_ = Clock::now();
  last_bar_ = start_;
  for (;;) {
    while (!stopping_ && next_ < total_ && children_.size() < jobs_) {
      if (Status s = Spawn(next_++); !s.ok()) {
        KillAll();
        return s;
      }
    }
    if (children_.empty()) break;
    if (Status s = Wait(); !s.ok()) {
      KillAll();
      return s;
    }
    Progress(false);
  }
  end_ = Clock::now();
  Progress(true);
  assert(done_ == next_);         // Seeds run in order and every started one finished,
  assert(json_pending_.empty());  // so every JSON line is out.
  if (!o_.junit_path.empty()) WriteJUnit();
  PrintSummary();
  assert(stopping_ || done_ == total_);
  return failures_.empty();
}

Status Sweep::Spawn(size_t task) {
  int fds[2];
  if (pipe(fds) != 0) return Status::IOError(std::string("pipe: ") + std::strerror(errno));
  // Whatever the parent buffered must not be written again by a child.
  std::fflush(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    RunChild(o_, ScenarioOf(task).name, SeedOf(task), hooks_, fds[1], parent);
  }
  close(fds[1]);
  Child c;
  c.pid = pid;
  c.fd = fds[0];
  c.task = task;
  c.start = Clock::now();
  auto& t = totals_[ScenarioOf(task).name];
  if (!t.first_start) t.first_start = c.start;
  children_.push_back(std::move(c));
  return Status::Ok();
}

// Waits for output, an exit or a deadline; finishes every child that ended or overran.
Status Sweep::Wait() {
  std::vector<pollfd> fds;
  auto now = Clock::now();
  int64_t wait_ms = tty_ ? kBarRedrawMs : kPollMsMax;
  for (const Child& c : children_) {
    fds.push_back({c.fd, POLLIN, 0});
    wait_ms = std::min(wait_ms, o_.timeout_s * 1000 - MsBetween(c.start, now));
  }
  if (poll(fds.data(), fds.size(), static_cast<int>(std::max<int64_t>(wait_ms, 0))) < 0 &&
      errno != EINTR) {
    return Status::IOError(std::string("poll: ") + std::strerror(errno));
  }
  now = Clock::now();
  std::vector<bool> ended(children_.size(), false);
  for (size_t i = 0; i < children_.size(); ++i) {
    Child& c = children_[i];
    Killed killed = Killed::kNo;
    if (fds[i].revents != 0) {
      char buf[65536];
      const ssize_t n = read(c.fd, buf, sizeof buf);
      if (n > 0) c.report.append(buf, static_cast<size_t>(n));
      if (n < 0 && errno == EINTR) continue;
      ended[i] = n <= 0;
      if (c.report.size() > kReportBytesMax) killed = Killed::kOversize;
    }
    if (!ended[i] && MsBetween(c.start, now) >= o_.timeout_s * 1000) killed = Killed::kHang;
    if (killed != Killed::kNo) {
      kill(c.pid, SIGKILL);
      ended[i] = true;
    }
    if (!ended[i]) continue;
    if (Status s = Finish(c, killed); !s.ok()) return s;
  }
  size_t kept = 0;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (ended[i]) continue;
    if (kept != i) children_[kept] = std::move(children_[i]);  // Never self-move: it clears.
    ++kept;
  }
  children_.resize(kept);
  return Status::Ok();
}

// Reaps the child and records its seed. A usage error the child found is an error status.
Status Sweep::Finish(Child& c, Killed killed) {
  int status = 0;
  while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  close(c.fd);
  c.fd = -1;
  const int64_t wall_ms = MsBetween(c.start, Clock::now());
  const uint64_t seed = SeedOf(c.task);
  Failure f;
  if (killed == Killed::kHang) {
    f.kind = "hang";
    f.message = "no report after " + std::to_string(o_.timeout_s) + " s (--timeout-s); killed";
  } else if (killed == Killed::kOversize) {
    f.kind = "crash";
    f.message = "report over " + std::to_string(kReportBytesMax) + " bytes; killed";
  } else if (WIFSIGNALED(status)) {
    f.kind = "crash";
    f.message = "worker killed by " + SignalName(WTERMSIG(status));
  } else {
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    auto j = nlohmann::json::parse(c.report, nullptr, /*allow_exceptions=*/false);
    if (code == kChildExitUsage && j.is_object() && j.contains("error") && j["error"].is_string()) {
      return Status::InvalidArgument(j["error"].get<std::string>());
    }
    if (IsReport(j, seed, code)) {
      Record(c.task, j.value("wall_ms", wall_ms), j);
      return Status::Ok();
    }
    f.kind = "crash";
    f.message = "worker exited with status " + std::to_string(code) + " without a report";
  }
  // No report from the child: the parent states the plan and the replay command itself.
  f.property = f.kind;
  sim::RunReport r;
  r.scenario = ScenarioOf(c.task).name;
  r.seed = seed;
  auto plan = sim::FaultPlan::Parse(o_.faults, seed, ScenarioOf(c.task).swarm_kinds);
  assert(plan.ok());  // Validated before the sweep started.
  r.faults = plan.ok() ? plan->ToSpec() : o_.faults;
  r.bugs = o_.bugs;
  f.faults = r.faults;
  f.replay = sim::ReplayCommand(r);
  nlohmann::json j = {
      {"scenario", r.scenario},       {"seed", seed},        {"ok", false},
      {"wall_ms", wall_ms},           {"faults", r.faults},  {"bugs", r.bugs},
      {"commit", sim::BuildCommit()}, {"replay", f.replay},  {"failure_kind", f.kind},
      {"property", f.property},       {"message", f.message}};
  RecordFailure(c.task, wall_ms, std::move(f), std::move(j));
  return Status::Ok();
}

// A seed with the child's report `j`.
void Sweep::Record(size_t task, int64_t wall_ms, const nlohmann::json& j) {
  auto& t = totals_[ScenarioOf(task).name];
  if (j.contains("fault_counts") && j["fault_counts"].is_object()) {
    for (const auto& [k, v] : j["fault_counts"].items()) {
      if (v.is_number_unsigned()) t.fault_counts[k] += v.get<uint64_t>();
    }
  }
  if (j.value("buggify_active", false)) ++t.buggify_runs;
  if (j.contains("buggify_sites") && j["buggify_sites"].is_object()) {
    for (const auto& [site, b] : j["buggify_sites"].items()) {
      auto& counts = t.buggify_sites[site];
      if (b.value("enabled", false)) ++counts.first;
      if (b.value("fired", uint64_t{0}) > 0) ++counts.second;
    }
  }
  if (!j["ok"].get<bool>()) {
    Failure f;
    f.kind = j.value("failure_kind", "");
    f.property = j.value("property", "");
    f.message = j.value("message", "");
    f.faults = j.value("faults", "");
    f.replay = j.value("replay", "");
    RecordFailure(task, wall_ms, std::move(f), j);
    return;
  }
  ++t.runs;
  t.last_end = Clock::now();
  Outcome& out = outcomes_[task];
  assert(!out.done);
  out = Outcome{true, true, wall_ms, 0};
  ++done_;
  if (o_.json) json_pending_[task] = Dump(j);
  FlushJson();
}

void Sweep::RecordFailure(size_t task, int64_t wall_ms, Failure f, nlohmann::json j) {
  const std::string& name = ScenarioOf(task).name;
  auto& t = totals_[name];
  ++t.runs;
  ++t.failures;
  t.last_end = Clock::now();
  Say(text_, "FAIL " + name + " seed " + std::to_string(SeedOf(task)) + ": " + f.property + ": " +
                 f.message + "\n  faults: " + f.faults + "\n  replay: " + f.replay + "\n");
  Outcome& out = outcomes_[task];
  assert(!out.done);
  out = Outcome{true, false, wall_ms, failures_.size()};
  failures_.push_back(std::move(f));
  ++done_;
  if (o_.json) json_pending_[task] = Dump(j);
  FlushJson();
  if (o_.fail_fast) stopping_ = true;
}

// Prints the JSON lines due, in seed order: those of the finished prefix of the tasks.
void Sweep::FlushJson() {
  while (next_json_ < total_ && outcomes_[next_json_].done) {
    auto it = json_pending_.find(next_json_++);
    if (it == json_pending_.end()) continue;  // Not --json.
    Say(out_, it->second + "\n");
    json_pending_.erase(it);
  }
}

// A usage or system error: the seeds still running are killed and not reported.
void Sweep::KillAll() {
  for (Child& c : children_) {
    kill(c.pid, SIGKILL);
    while (waitpid(c.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    close(c.fd);
  }
  children_.clear();
}

// Prints a line to `f`, out of the way of the progress bar (it is redrawn on the next tick).
void Sweep::Say(std::FILE* f, const std::string& text) {
  if (bar_drawn_) std::fputs("\r\033[K", err_);
  bar_drawn_ = false;
  std::fputs(text.c_str(), f);
  std::fflush(f);
}

void Sweep::Progress(bool final) {
  if (total_ == 0) return;
  const auto now = Clock::now();
  const double elapsed_s = std::max<int64_t>(MsBetween(start_, now), 1) / 1000.0;
  char line[160];
  std::snprintf(line, sizeof line, "%zu/%zu seeds, %zu failed, %.0f seeds/s", done_, total_,
                failures_.size(), done_ / elapsed_s);
  if (!tty_) {
    if (total_ < kPlainProgressSeedsMin) return;
    const int64_t decile = static_cast<int64_t>(done_ * 10 / total_);
    if (decile <= last_decile_) return;
    last_decile_ = decile;
    Say(err_, std::string("sweep: ") + line + "\n");
    return;
  }
  if (final) {
    Say(err_, "");  // Clears the bar; the summary follows.
    return;
  }
  if (MsBetween(last_bar_, now) < kBarRedrawMs && bar_drawn_) return;
  last_bar_ = now;
  constexpr size_t kWidth = 30;
  const size_t filled = done_ * kWidth / total_;
  std::string bar(kWidth, ' ');
  std::fill(bar.begin(), bar.begin() + filled, '=');
  if (filled < kWidth) bar[filled] = '>';
  std::fprintf(err_, "\r[%s] %s\033[K", bar.c_str(), line);
  std::fflush(err_);
  bar_drawn_ = true;
}

void Sweep::WriteJUnit() const {
  std::ofstream f(o_.junit_path);
  f << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kiln sim sweep\">\n";
  for (size_t s = 0; s < scenarios_.size(); ++s) {
    const std::string name = XmlEscape(scenarios_[s]->name);
    const auto& t =
        totals_.count(scenarios_[s]->name) ? totals_.at(scenarios_[s]->name) : ScenarioTotals{};
    f << "  <testsuite name=\"" << name << "\" tests=\"" << t.runs << "\" failures=\"" << t.failures
      << "\">\n";
    for (size_t task = s * per_scenario_; task < (s + 1) * per_scenario_; ++task) {
      const Outcome& out = outcomes_[task];
      if (!out.done) continue;  // Never started: --fail-fast.
      f << "    <testcase classname=\"" << name << "\" name=\"seed " << SeedOf(task) << "\" time=\""
        << out.wall_ms / 1000.0 << "\">";
      if (!out.ok) {
        const Failure& fl = failures_[out.failure];
        f << "\n      <failure message=\"" << XmlEscape(fl.property + ": " + fl.message)
          << "\" type=\"" << XmlEscape(fl.kind) << "\">"
          << XmlEscape("faults: " + fl.faults + "\nreplay: " + fl.replay) << "</failure>\n    ";
      }
      f << "</testcase>\n";
    }
    f << "  </testsuite>\n";
  }
  f << "</testsuites>\n";
}

void Sweep::PrintSummary() const {
  std::fprintf(text_, "\n%-16s %7s %8s %9s  %s\n", "scenario", "seeds", "failures", "seeds/s",
               "faults injected");
  for (const auto& [name, t] : totals_) {
    std::string faults;
    for (const auto& [k, v] : t.fault_counts) {
      faults += (faults.empty() ? "" : " ") + k + "=" + std::to_string(v);
    }
    const int64_t span_ms = t.first_start ? MsBetween(*t.first_start, t.last_end) : 0;
    const double rate = 1000.0 * t.runs / std::max<int64_t>(span_ms, 1);
    std::fprintf(text_, "%-16s %7llu %8llu %9.1f  %s\n", name.c_str(),
                 static_cast<unsigned long long>(t.runs),
                 static_cast<unsigned long long>(t.failures), rate,
                 faults.empty() ? "none" : faults.c_str());
    // Coverage of rare paths: how often each BUGGIFY site was enabled and actually fired.
    std::fprintf(text_, "%-16s buggify on in %llu of %llu runs\n", "",
                 static_cast<unsigned long long>(t.buggify_runs),
                 static_cast<unsigned long long>(t.runs));
    for (const auto& [site, counts] : t.buggify_sites) {
      std::fprintf(text_, "%-16s   %s: enabled in %llu runs, fired in %llu\n", "", site.c_str(),
                   static_cast<unsigned long long>(counts.first),
                   static_cast<unsigned long long>(counts.second));
    }
  }
  const int64_t wall_ms = MsBetween(start_, end_);
  std::fprintf(text_, "%-16s %7zu %8zu %9.1f  wall %.2f s, %u jobs, shard %llu/%llu\n", "total",
               done_, failures_.size(), 1000.0 * done_ / std::max<int64_t>(wall_ms, 1),
               wall_ms / 1000.0, jobs_, static_cast<unsigned long long>(shard_.index),
               static_cast<unsigned long long>(shard_.count));
  std::fflush(text_);
}

// Every usage error, found before anything runs: the scenarios, the seed range, the fault spec
// (a dry parse per scenario) and the bugs (enabled and disabled again).
Result<std::vector<const sim::ScenarioInfo*>> Validate(const SweepOptions& o) {
  std::vector<const sim::ScenarioInfo*> scenarios;
  if (o.scenario == "all") {
    scenarios = sim::ScenarioRegistry::Instance().list();
  } else {
    auto info = sim::ScenarioRegistry::Instance().find(o.scenario);
    if (!info.ok()) return Status::NotFound(info.status().message() + "; or all");
    scenarios.push_back(*info);
  }
  if (o.seeds == 0) return Status::InvalidArgument("--seeds must be at least 1");
  if (o.first_seed > UINT64_MAX - (o.seeds - 1)) {
    return Status::InvalidArgument("--first-seed + --seeds - 1 exceeds 2^64 - 1");
  }
  if (o.jobs > kJobsMax) {
    return Status::InvalidArgument("--jobs must be at most " + std::to_string(kJobsMax) +
                                   " (0: the number of cores)");
  }
  if (o.timeout_s < 1) return Status::InvalidArgument("--timeout-s must be at least 1");
  for (const auto* s : scenarios) {
    auto plan = sim::FaultPlan::Parse(o.faults, o.first_seed, s->swarm_kinds);
    if (!plan.ok()) return plan.status();
  }
  Status bugs = Status::Ok();
  for (const auto& b : o.bugs) {
    bugs = BugRegistry::Instance().enable(b);
    if (!bugs.ok()) break;
  }
  BugRegistry::Instance().disable_all();
  if (!bugs.ok()) return bugs;
  return scenarios;
}

}  // namespace

Result<Shard> ParseShard(std::string_view text) {
  const auto bad = [&] {
    return Status::InvalidArgument(
        "--shard takes I/N, shard I of N with 1 <= I <= N (e.g. 2/4), "
        "got '" +
        std::string(text) + "'");
  };
  const size_t slash = text.find('/');
  Shard shard;
  if (slash == std::string_view::npos || !ParseU64(text.substr(0, slash), &shard.index) ||
      !ParseU64(text.substr(slash + 1), &shard.count)) {
    return bad();
  }
  if (shard.index < 1 || shard.index > shard.count) return bad();
  return shard;
}

Result<bool> RunSweep(const SweepOptions& options, std::FILE* out, std::FILE* err) {
  auto scenarios = Validate(options);
  if (!scenarios.ok()) return scenarios.status();
  auto shard = ParseShard(options.shard);
  if (!shard.ok()) return shard.status();
  uint32_t jobs = options.jobs;
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  Sweep sweep(options, *shard, std::move(*scenarios), jobs, out, err);
  return sweep.Run();
}

}  // namespace kiln::tools
