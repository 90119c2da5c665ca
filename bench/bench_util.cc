#include "bench/bench_util.h"

#include <stdlib.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <bit>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <utility>

namespace kiln::sim {
extern const char kBuildCommit[];  // Generated at build time (cmake/commit.cmake).
}

namespace kiln::bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Duration UntilNs(int64_t ns) {
  return std::chrono::duration_cast<Duration>(
      std::chrono::nanoseconds(std::max<int64_t>(0, ns - NowNs())));
}

// ---------------------------------------------------------------------------------------------
// LatencyHistogram

void LatencyHistogram::add(int64_t ns) {
  assert(ns >= 0);
  const uint64_t v = static_cast<uint64_t>(ns);
  ++counts_[Index(v)];
  ++count_;
  sum_ns_ += v;
  max_ns_ = std::max(max_ns_, v);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < kBuckets; ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ns_ += other.sum_ns_;
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

double LatencyHistogram::quantile_ms(double q) const {
  assert(q > 0 && q <= 1);
  if (count_ == 0) return 0;
  const uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * count_)));
  uint64_t seen = 0;
  for (size_t i = 0; i < kBuckets; ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min<uint64_t>(Middle(i), max_ns_) / 1e6;
  }
  assert(false && "rank beyond the count");
  return max_ms();
}

size_t LatencyHistogram::Index(uint64_t v) {
  if (v < (uint64_t{2} << kSubBits)) return v;
  const int msb = 63 - std::countl_zero(v);
  const uint64_t sub = v >> (msb - kSubBits);  // In [128, 256).
  const size_t i = (static_cast<size_t>(msb - kSubBits + 1) << kSubBits) + (sub - 128);
  assert(i < kBuckets);
  return i;
}

uint64_t LatencyHistogram::Middle(size_t i) {
  if (i < (size_t{2} << kSubBits)) return i;
  const int shift = static_cast<int>(i >> kSubBits) - 1;
  const uint64_t lower = (128 + (i & 127)) << shift;
  return lower + (uint64_t{1} << shift) / 2;
}

void AddLatencyJson(nlohmann::json& j, const std::string& name, const LatencyHistogram& h) {
  j[name + "_ms_p50"] = h.quantile_ms(0.50);
  j[name + "_ms_p99"] = h.quantile_ms(0.99);
  j[name + "_ms_p999"] = h.quantile_ms(0.999);
  j[name + "_ms_mean"] = h.mean_ms();
  j[name + "_ms_max"] = h.max_ms();
}

// ---------------------------------------------------------------------------------------------
// Windows, directories, the build.

Window Window::FromNow(double warmup_seconds, double seconds) {
  Window w;
  w.begin_ns = NowNs() + static_cast<int64_t>(warmup_seconds * 1e9);
  w.end_ns = w.begin_ns + static_cast<int64_t>(seconds * 1e9);
  return w;
}

bool Record(const Window& w, LatencyHistogram& latency, int64_t begin_ns, int64_t end_ns) {
  if (w.contains(end_ns)) latency.add(end_ns - begin_ns);
  return end_ns <= w.end_ns;
}

TempDir::TempDir(const std::string& parent, const std::string& prefix) {
  std::string tmpl = parent + "/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ignored;
  if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
}

std::string DefaultParentDir() {
  const char* tmpdir = std::getenv("TMPDIR");
  return tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp";
}

std::string FsType(const std::string& path) {
  struct statfs st {};
  if (statfs(path.c_str(), &st) != 0) return "unknown";
  switch (static_cast<uint64_t>(st.f_type)) {
    case 0xEF53:
      return "ext2/3/4";
    case 0x01021994:
      return "tmpfs";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794C7630:
      return "overlayfs";
    case 0x2FC12FC1:
      return "zfs";
    case 0xF2F52010:
      return "f2fs";
    case 0x6969:
      return "nfs";
    default:
      break;
  }
  char hex[32];
  std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(st.f_type));
  return hex;
}

std::string BuildCommit() {
  return sim::kBuildCommit;
}

std::string BuildType() {
#ifdef KILN_BENCH_BUILD_TYPE
  return KILN_BENCH_BUILD_TYPE;
#else
  return "unknown";
#endif
}

std::string Command(int argc, char** argv) {
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i == 0 ? "" : " ") + std::string(argv[i]);
  return command;
}

void PrintBuildLine() {
  std::printf("# commit %s, build %s, simulation hooks %s, %u hardware threads\n",
              sim::kBuildCommit, BuildType().c_str(), KILN_SIMULATION_HOOKS ? "on" : "off",
              std::thread::hardware_concurrency());
}

nlohmann::json BuildJson(const std::string& dir) {
  nlohmann::json j;
  j["commit"] = BuildCommit();
  j["build_type"] = BuildType();
  j["simulation_hooks"] = KILN_SIMULATION_HOOKS != 0;
  j["hardware_threads"] = std::thread::hardware_concurrency();
  j["dir"] = dir;
  j["fs_type"] = FsType(dir);
  return j;
}

// ---------------------------------------------------------------------------------------------
// The options every program takes.

void AddRunOptions(CLI::App& app, RunOptions& o, const std::string& seed_help) {
  app.add_option("--seconds", o.seconds, "measured window per run")
      ->check(CLI::Range(0.01, 600.0))
      ->capture_default_str();
  app.add_option("--warmup-seconds", o.warmup_seconds, "unmeasured start of each run")
      ->check(CLI::Range(0.0, 600.0))
      ->capture_default_str();
  app.add_option("--dir", o.dir, "parent of the temporary directories ($TMPDIR or /tmp)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--blocking-threads", o.blocking_threads, "the scheduler's blocking pool")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--checkpoint-every-records", o.checkpoint_every_records,
                 "KvOptions::checkpoint_every_records")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40))
      ->capture_default_str();
  app.add_option("--seed", o.seed, seed_help)->capture_default_str();
  app.add_flag("--json", o.json, "one JSON object instead of the table");
}

std::optional<int> Parse(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }
  return std::nullopt;
}

void PrintRunLine(const RunOptions& o) {
  std::printf(
      "# dir %s (%s), seconds %g, warmup_seconds %g, blocking_threads %zu, "
      "checkpoint_every_records %llu, seed %llu\n",
      o.dir.c_str(), FsType(o.dir).c_str(), o.seconds, o.warmup_seconds, o.blocking_threads,
      static_cast<unsigned long long>(o.checkpoint_every_records),
      static_cast<unsigned long long>(o.seed));
}

nlohmann::json RunJson(const RunOptions& o, const std::string& command) {
  nlohmann::json j = BuildJson(o.dir);
  j["seconds"] = o.seconds;
  j["warmup_seconds"] = o.warmup_seconds;
  j["blocking_threads"] = o.blocking_threads;
  j["checkpoint_every_records"] = o.checkpoint_every_records;
  j["seed"] = o.seed;
  j["command"] = command;
  return j;
}

// ---------------------------------------------------------------------------------------------
// The production runtime.

Task<Result<std::unique_ptr<kv::KvStore>>> OpenKvStore(ProductionRuntime& rt, std::string dir,
                                                       uint64_t checkpoint_every_records) {
  kv::KvOptions options;
  options.dir = dir + "/kiln";
  options.checkpoint_every_records = checkpoint_every_records;
  // NOTE (GCC 12, task.h): the options aggregate goes to Open outside the co_await expression.
  Task<Result<std::unique_ptr<kv::KvStore>>> opening =
      kv::KvStore::Open(rt.fs, rt.scheduler, rt.host, options);
  co_return co_await std::move(opening);
}

// ---------------------------------------------------------------------------------------------
// OtherCpu

OtherCpu::OtherCpu() : start_ns_(NowNs()) {
  ok_ = Sample(&start_all_, &start_self_);
}

bool OtherCpu::Sample(uint64_t* all_busy_ticks, uint64_t* self_ticks) {
  // /proc/stat's first line: "cpu user nice system idle iowait irq softirq steal ...", in ticks.
  std::ifstream stat("/proc/stat");
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) ||
      cpu != "cpu") {
    return false;
  }
  *all_busy_ticks = user + nice + system + irq + softirq + steal;
  // /proc/self/stat: utime and stime are fields 14 and 15; the name (field 2) may hold spaces,
  // so count from its closing parenthesis.
  std::ifstream self("/proc/self/stat");
  std::string line;
  if (!std::getline(self, line)) return false;
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos) return false;
  std::istringstream rest(line.substr(paren + 1));
  std::string field;
  uint64_t utime = 0, stime = 0;
  for (int i = 3; i <= 13; ++i) rest >> field;  // state .. cmajflt
  if (!(rest >> utime >> stime)) return false;
  *self_ticks = utime + stime;
  return true;
}

double OtherCpu::cores_busy() const {
  uint64_t all = 0, self = 0;
  if (!ok_ || !Sample(&all, &self)) return 0;
  const double seconds = (NowNs() - start_ns_) / 1e9;
  const long hz = sysconf(_SC_CLK_TCK);
  if (seconds <= 0 || hz <= 0) return 0;
  const double others = static_cast<double>(all - start_all_) - (self - start_self_);
  return std::max(0.0, others / hz / seconds);
}

}  // namespace kiln::bench
