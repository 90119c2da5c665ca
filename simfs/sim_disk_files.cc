// SimDisk's file operations: open, read, write, append, truncate, sync, allocate, size, close.
// Each checks in the same order: dead disk, handle, arguments, injected error, capacity; then
// changes the state. The model is documented in sim_disk.h.
#include <algorithm>
#include <cassert>
#include <cstring>

#include "simfs/sim_disk.h"
#include "simfs/sim_disk_impl.h"

namespace kiln::simfs {
namespace {

using detail::Inode;

// "write a/b@0+3": short, because the trace hashes it on every operation.
std::string At(std::string_view op, std::string_view path, uint64_t offset, uint64_t length) {
  std::string out(op);
  out += ' ';
  out += path;
  out += '@';
  out += std::to_string(offset);
  out += '+';
  out += std::to_string(length);
  return out;
}

Status Injected(std::string_view detail) {
  return Status::IOError("injected I/O error: " + std::string(detail));
}

std::string_view AsChars(std::span<const std::byte> data) {
  return {reinterpret_cast<const char*>(data.data()), data.size()};
}

}  // namespace

// --- Helpers. ---

uint64_t SimDisk::Impl::fit_bytes(const Inode& inode, uint64_t offset, uint64_t length) const {
  const uint64_t capacity = disk.faults_.capacity_bytes;
  if (capacity == UINT64_MAX) return length;  // Unlimited: skip summing every file.
  const uint64_t used = disk.used_bytes();
  const uint64_t free = used >= capacity ? 0 : capacity - used;
  // The largest this file may grow to; overwriting inside it never runs out of space.
  const uint64_t footprint = inode.footprint_bytes();
  const uint64_t limit = free > UINT64_MAX - footprint ? UINT64_MAX : footprint + free;
  const uint64_t fit = offset >= limit ? 0 : std::min(length, limit - offset);
  assert(fit <= length);
  return fit;
}

void SimDisk::Impl::land(uint64_t inode, uint64_t offset, std::string_view bytes) {
  if (bytes.empty()) return;
  Inode& i = inodes.at(inode);
  detail::ApplyWrite(&i.visible, offset, bytes);
  i.unsynced.push_back({next_seq++, false, offset, std::string(bytes)});
  assert(i.visible.size() >= offset + bytes.size());
}

void SimDisk::Impl::land_truncate(uint64_t inode, uint64_t size) {
  Inode& i = inodes.at(inode);
  detail::ApplyTruncate(&i.visible, size);
  i.unsynced.push_back({next_seq++, true, size, {}});
  assert(i.visible.size() == size);
}

uint64_t SimDisk::Impl::misdirect(uint64_t offset) {
  // A few sectors away, earlier or later: where a confused controller puts it.
  const uint64_t delta = uint64_t{disk.faults_.sector_bytes} * (1 + disk.random_.uniform(8));
  const bool earlier = offset >= delta && disk.random_.chance(0.5);
  const uint64_t target = earlier ? offset - delta : offset + delta;
  assert(target != offset);
  return target;
}

// --- Operations. ---

Result<FileHandle> SimDisk::open(std::string_view path, OpenOptions options) {
  if (op_begins()) return impl_->dead("open");
  Result<std::vector<std::string>> parts = impl_->split(path, "open");
  if (!parts.ok()) return parts.status();
  const std::string name = detail::JoinPath(*parts);
  impl_->record(0, 0, "open " + name);
  if (parts->empty()) return Status::InvalidArgument("open: is a directory: /");
  if (options.read_only && options.truncate) {
    return Status::InvalidArgument("open " + name + ": truncate on a read-only open");
  }
  Result<uint64_t> parent = impl_->visible.resolve_parent(*parts);
  if (!parent.ok()) return parent.status().WithContext("open " + name);
  const detail::DirEntry* e = impl_->visible.find(*parent, parts->back());
  const uint64_t existing = e != nullptr && !e->is_dir ? e->id : 0;
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, "open " + name,
                    existing)) {
    return Injected("open " + name);
  }
  uint64_t inode = existing;
  if (e != nullptr) {
    if (e->is_dir) return Status::InvalidArgument("open " + name + ": is a directory");
    if (options.create && options.exclusive) {
      return Status::InvalidArgument("open " + name + ": file exists (exclusive create)");
    }
    if (impl_->sticky.count(inode) != 0) {
      return Status::IOError("sticky I/O error on " + name + " (until reboot)");
    }
    if (options.truncate) impl_->land_truncate(inode, 0);
  } else {
    if (!options.create) return Status::NotFound("open " + name + ": no such file");
    inode = impl_->create_file(*parent, parts->back());
  }
  const uint64_t id = impl_->next_handle++;
  impl_->handles.emplace(id, Impl::Handle{inode, name, options.read_only});
  assert(impl_->inodes.count(inode) == 1);
  return FileHandle{id};
}

Result<size_t> SimDisk::read(FileHandle h, uint64_t offset, std::span<std::byte> buf) {
  if (op_begins()) return impl_->dead("read");
  Result<Impl::Handle*> hd = impl_->handle(h, "read");
  if (!hd.ok()) return hd.status();
  const Impl::Handle& handle = **hd;
  const std::string text = At("read", handle.path, offset, buf.size());
  impl_->record(handle.inode, h.id, text);
  if (Status s = impl_->sticky_error(handle); !s.ok()) return s;
  if (impl_->inject(faults_.read_error_p, "io-read", &counts_.read_errors, text, handle.inode)) {
    return Injected(text);  // Never a short read: the caller must not mistake it for the end.
  }
  const std::string& bytes = impl_->inodes.at(handle.inode).visible;
  const size_t n =
      offset >= bytes.size() ? 0 : std::min<uint64_t>(buf.size(), bytes.size() - offset);
  if (n > 0) std::memcpy(buf.data(), bytes.data() + offset, n);
  if (n > 0 && OutsideContractApplies(faults_, handle.path) &&
      impl_->inject(faults_.read_corruption_p, "corrupt-read", &counts_.read_corruptions, text,
                    0)) {
    const uint64_t bit = random_.uniform(uint64_t{n} * 8);
    buf[bit / 8] ^= std::byte{static_cast<uint8_t>(1u << (bit % 8))};
  }
  assert(n <= buf.size());
  return n;
}

Status SimDisk::write(FileHandle h, uint64_t offset, std::span<const std::byte> data) {
  return impl_->write_bytes(h, false, offset, AsChars(data));
}

Status SimDisk::append(FileHandle h, std::span<const std::byte> data) {
  return impl_->write_bytes(h, true, 0, AsChars(data));
}

Status SimDisk::Impl::write_bytes(FileHandle h, bool append, uint64_t offset,
                                  std::string_view data) {
  const char* op = append ? "append" : "write";
  if (disk.op_begins()) return dead(op);
  Result<Handle*> hd = handle(h, op);
  if (!hd.ok()) return hd.status();
  const Handle& hnd = **hd;
  Inode& inode = inodes.at(hnd.inode);
  if (append) offset = inode.visible.size();
  const std::string text = At(op, hnd.path, offset, data.size());
  record(hnd.inode, h.id, text);
  if (Status s = sticky_error(hnd); !s.ok()) return s;
  if (hnd.read_only) return Status::InvalidArgument(text + ": file is open read-only");
  // Room for a misdirection too, which moves a write up to 8 sectors.
  const uint64_t room = uint64_t{16} * disk.faults_.sector_bytes + data.size();
  if (room > detail::kFileBytesMax || offset > detail::kFileBytesMax - room) {
    return Status::InvalidArgument(text + ": past the simulated file size limit");
  }
  DiskFaultCounts& counts = disk.counts_;
  if (inject(disk.faults_.write_error_p, "io-write", &counts.write_errors, text, hnd.inode)) {
    // A failed write applied none, a prefix, or all of its bytes.
    const uint64_t way = disk.random_.uniform(3);
    uint64_t n = way == 0 ? 0 : way == 2 ? data.size() : disk.random_.uniform(data.size() + 1);
    n = fit_bytes(inode, offset, n);
    land(hnd.inode, offset, data.substr(0, n));
    return Injected(text);
  }
  if (disk.random_.chance(disk.faults_.misdirected_write_p) &&
      OutsideContractApplies(disk.faults_, hnd.path) && disk.trace_.admit_fault()) {
    offset = misdirect(offset);
    ++counts.misdirected_writes;
    disk.trace_.record_fault("misdirected", text + " ->@" + std::to_string(offset));
  }
  const uint64_t fit = fit_bytes(inode, offset, data.size());
  if (fit < data.size()) {
    ++counts.no_space;
    disk.trace_.record_fault("no-space", text + " fit " + std::to_string(fit));
    if (disk.faults_.partial_write_on_full) land(hnd.inode, offset, data.substr(0, fit));
    return Status::NoSpace(text + ": no space left on the simulated disk (capacity " +
                           std::to_string(disk.faults_.capacity_bytes) + " bytes)");
  }
  land(hnd.inode, offset, data);
  return Status::Ok();
}

Status SimDisk::truncate(FileHandle h, uint64_t size_bytes) {
  if (op_begins()) return impl_->dead("truncate");
  Result<Impl::Handle*> hd = impl_->handle(h, "truncate");
  if (!hd.ok()) return hd.status();
  const Impl::Handle& handle = **hd;
  Inode& inode = impl_->inodes.at(handle.inode);
  const std::string text = "truncate " + handle.path + " " + std::to_string(size_bytes);
  impl_->record(handle.inode, h.id, text);
  if (Status s = impl_->sticky_error(handle); !s.ok()) return s;
  if (handle.read_only) return Status::InvalidArgument(text + ": file is open read-only");
  if (size_bytes > detail::kFileBytesMax) {
    return Status::InvalidArgument(text + ": past the simulated file size limit");
  }
  if (impl_->inject(faults_.write_error_p, "io-write", &counts_.write_errors, text, handle.inode)) {
    return Injected(text);
  }
  const uint64_t size = inode.visible.size();
  if (size_bytes > size && impl_->fit_bytes(inode, size, size_bytes - size) < size_bytes - size) {
    ++counts_.no_space;
    trace_.record_fault("no-space", text);
    return Status::NoSpace(text + ": no space left on the simulated disk");
  }
  impl_->land_truncate(handle.inode, size_bytes);
  return Status::Ok();
}

Status SimDisk::sync(FileHandle h) {
  if (op_begins()) return impl_->dead("sync");
  Result<Impl::Handle*> hd = impl_->handle(h, "sync");
  if (!hd.ok()) return hd.status();
  const Impl::Handle& handle = **hd;
  Inode& inode = impl_->inodes.at(handle.inode);
  const std::string text = "sync " + handle.path;
  impl_->record(handle.inode, h.id, text);
  if (Status s = impl_->sticky_error(handle); !s.ok()) return s;
  if (impl_->inject(faults_.sync_error_p, "io-sync", &counts_.sync_errors, text, handle.inode)) {
    // Linux: the writes are marked clean without reaching the disk. Reads still see them, a
    // later sync has nothing to write, and a crash loses them.
    inode.unsynced.clear();
    return Status::IOError("injected I/O error: " + text +
                           " (its writes are now clean but not durable)");
  }
  if (!inode.unsynced.empty()) {
    detail::ApplyWithUndo(&inode.durable, inode.unsynced, &inode.last_sync_undo);
    inode.unsynced.clear();
  }
  // An ordered-mode journal commit carries every directory operation issued so far.
  if (faults_.dir_crash_mode == DirCrashMode::kJournal) impl_->commit_dir_ops(0);
  assert(inode.unsynced.empty());
  return Status::Ok();
}

Status SimDisk::allocate(FileHandle h, uint64_t offset, uint64_t length) {
  if (op_begins()) return impl_->dead("allocate");
  Result<Impl::Handle*> hd = impl_->handle(h, "allocate");
  if (!hd.ok()) return hd.status();
  const Impl::Handle& handle = **hd;
  Inode& inode = impl_->inodes.at(handle.inode);
  const std::string text = At("allocate", handle.path, offset, length);
  impl_->record(handle.inode, h.id, text);
  if (Status s = impl_->sticky_error(handle); !s.ok()) return s;
  if (handle.read_only) return Status::InvalidArgument(text + ": file is open read-only");
  if (offset > detail::kFileBytesMax || length > detail::kFileBytesMax - offset) {
    return Status::InvalidArgument(text + ": past the simulated file size limit");
  }
  if (impl_->inject(faults_.write_error_p, "io-write", &counts_.write_errors, text, handle.inode)) {
    return Injected(text);
  }
  const uint64_t end = offset + length;
  const uint64_t footprint = inode.footprint_bytes();
  if (end > footprint && impl_->fit_bytes(inode, footprint, end - footprint) < end - footprint) {
    ++counts_.no_space;
    trace_.record_fault("no-space", text);
    return Status::NoSpace(text + ": no space left on the simulated disk");
  }
  inode.allocated_bytes = std::max(inode.allocated_bytes, end);
  assert(inode.footprint_bytes() >= end);
  return Status::Ok();
}

Result<uint64_t> SimDisk::size(FileHandle h) {
  if (op_begins()) return impl_->dead("size");
  Result<Impl::Handle*> hd = impl_->handle(h, "size");
  if (!hd.ok()) return hd.status();
  const Impl::Handle& handle = **hd;
  const std::string text = "size " + handle.path;
  impl_->record(handle.inode, h.id, text);
  if (Status s = impl_->sticky_error(handle); !s.ok()) return s;
  if (impl_->inject(faults_.metadata_error_p, "io-meta", &counts_.metadata_errors, text,
                    handle.inode)) {
    return Injected(text);
  }
  return uint64_t{impl_->inodes.at(handle.inode).visible.size()};
}

Status SimDisk::close(FileHandle h) {
  if (op_begins()) return impl_->dead("close");
  Result<Impl::Handle*> hd = impl_->handle(h, "close");
  if (!hd.ok()) return hd.status();
  const Impl::Handle handle = **hd;
  impl_->record(handle.inode, h.id, "close " + handle.path);
  impl_->handles.erase(h.id);
  impl_->collect_garbage();  // An unlinked file's last handle frees it.
  assert(impl_->handles.count(h.id) == 0);
  return impl_->sticky_error(handle);
}

}  // namespace kiln::simfs
