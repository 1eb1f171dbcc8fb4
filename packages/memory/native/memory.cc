// @ixy/memory native addon: only what JavaScript cannot do. mmap/munmap/mlock of hugepages
// and shared files, and /proc/self/pagemap reads. Every function throws a Napi::Error shaped
// like Node's fs errors (code, errno, syscall, path: ixy-native.h) and never exits the process.
// Loaded by every worker thread that uses it: the state below is shared and locked.
#include <napi.h>

#include "ixy-native.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ctime>
#include <linux/futex.h>
#include <poll.h>
#include <sys/syscall.h>
#include <atomic>
#include <mutex>
#include <unistd.h>
#include <unordered_map>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

namespace {

using ixy::Fd;
using ixy::SystemError;

constexpr size_t kHugePage = 2u << 20;

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef FUTEX_32
#define FUTEX_32 2
#endif
// struct futex_waitv (Linux 5.16), declared here for older headers
struct WaitvEntry {
  uint64_t val;
  uint64_t uaddr;
  uint32_t flags;
  uint32_t reserved;
};

// One mapping handed to JavaScript as an external ArrayBuffer. Its state changes only on the
// thread of the ArrayBuffer's own environment (Wrap, Unmap and the finalizer run there), so it
// needs no lock.
struct Mapping {
  enum State {
    kCreating,        // inside napi_create_external_arraybuffer
    kLive,            // handed out; the finalizer unmaps it
    kFreed,           // unmapped by unmap(); the finalizer only deletes the record
    kFailed,          // the ArrayBuffer was never made; a late finalizer only deletes the record
    kFinalizedEarly,  // the finalizer ran during a failed creation (Node calls it at once)
  };
  void* addr;
  size_t len;
  State state;
};

// Every live mapping of the process by address, so unmap() can tell its own buffers from others
// and a buffer is never unmapped twice. One table for all worker threads, under a lock: the keys
// are addresses of the one address space, and the threads' map/unmap calls race on it (a table
// per thread, in napi instance data, would be gone before the finalizers of its buffers run at
// a worker's exit). An address leaves the table before it is unmapped: once munmap returns,
// another thread's mmap may get the same address and enter it.
std::mutex mappingsLock;
std::unordered_map<void*, Mapping*> mappings;

void Remember(Mapping* m) {
  std::lock_guard<std::mutex> hold(mappingsLock);
  mappings[m->addr] = m;
}

// Removes `m` (that one: not a newer mapping at the same address) from the table.
void Forget(Mapping* m) {
  std::lock_guard<std::mutex> hold(mappingsLock);
  auto it = mappings.find(m->addr);
  if (it != mappings.end() && it->second == m) mappings.erase(it);
}

// Takes the mapping at `addr` out of the table; null when this addon did not map it.
Mapping* Take(void* addr, size_t len) {
  std::lock_guard<std::mutex> hold(mappingsLock);
  auto it = mappings.find(addr);
  if (it == mappings.end() || it->second->len != len) return nullptr;
  Mapping* m = it->second;
  mappings.erase(it);
  return m;
}

void Finalize(Napi::Env env, void* /*data*/, Mapping* m) {
  switch (m->state) {
    case Mapping::kCreating:
      m->state = Mapping::kFinalizedEarly;  // Wrap cleans up
      return;
    case Mapping::kLive:
      Forget(m);
      munmap(m->addr, m->len);
      Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(m->len));
      break;
    case Mapping::kFreed:
    case Mapping::kFailed:
    case Mapping::kFinalizedEarly:
      break;
  }
  delete m;
}

// Hands a fresh mapping to JavaScript. When the ArrayBuffer cannot be made (larger than the
// runtime allows: buffer.constants.MAX_LENGTH, 4 GiB before Node 22; none at all in a V8 memory cage), the memory
// is unmapped and the error thrown. Node may call the finalizer at once, later, or never then:
// the record is deleted exactly once in each case.
Napi::Value Wrap(Napi::Env env, void* addr, size_t len) {
  auto* m = new Mapping{addr, len, Mapping::kCreating};
  Remember(m);
  napi_value value;
  napi_status status = napi_create_external_arraybuffer(
      env, addr, len,
      [](napi_env e, void* data, void* hint) { Finalize(Napi::Env(e), data, static_cast<Mapping*>(hint)); },
      m, &value);
  if (status == napi_ok) {
    m->state = Mapping::kLive;
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(len));
    return Napi::Value(env, value);
  }
  Forget(m);
  munmap(addr, len);
  if (m->state == Mapping::kFinalizedEarly) {
    delete m;
  } else {
    m->state = Mapping::kFailed;  // a finalizer still to come deletes it
  }
  napi_value pending;
  if (napi_get_and_clear_last_exception(env, &pending) == napi_ok && !Napi::Value(env, pending).IsUndefined()) {
    throw Napi::Error(env, pending);  // Node's own (ERR_BUFFER_TOO_LARGE)
  }
  Napi::Error e = Napi::Error::New(env,
      "this JavaScript runtime does not allow external ArrayBuffers (a V8 memory cage, as in "
      "Electron); ixy-ts needs Node.js to map device and DMA memory");
  e.Set("code", Napi::String::New(env, status == napi_no_external_buffers_allowed ? "ENOEXTERNAL" : "EEXTERNAL"));
  throw e;
}

// allocHugepages(size, hugetlbfsDir): DMA memory on 2 MiB hugepages, locked and populated.
// memfd_create(MFD_HUGETLB) first; a file in the hugetlbfs mount (unlinked at once) otherwise.
Napi::Value AllocHugepages(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsString()) {
    throw Napi::TypeError::New(env, "allocHugepages(size: number, hugetlbfsDir: string)");
  }
  double want = info[0].As<Napi::Number>().DoubleValue();
  if (!(want > 0) || want > 1099511627776.0) throw Napi::RangeError::New(env, "size out of range");
  size_t size = (static_cast<size_t>(want) + kHugePage - 1) & ~(kHugePage - 1);
  std::string dir = info[1].As<Napi::String>().Utf8Value();

  std::string where = "memfd";
  Fd fd(static_cast<int>(syscall(SYS_memfd_create, "ixy-dma", MFD_HUGETLB | MFD_CLOEXEC)));
  if (!fd.ok()) {
    if (dir.empty()) throw SystemError(env, errno, "memfd_create");
    // a name no other thread or process uses (O_EXCL: never two threads in one file, which
    // would hand both the same pages); unlinked at once, so nothing stays behind
    static std::atomic<unsigned> counter{0};
    for (;;) {
      where = dir + "/ixy-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
      Fd file(open(where.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, S_IRWXU));
      if (file.ok()) {
        unlink(where.c_str());
        fd = std::move(file);
        break;
      }
      if (errno != EEXIST) throw SystemError(env, errno, "open", where);
    }
  }
  if (ftruncate(fd.get(), static_cast<off_t>(size)) != 0) throw SystemError(env, errno, "ftruncate", where);
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB | MAP_POPULATE, fd.get(), 0);
  if (addr == MAP_FAILED) throw SystemError(env, errno, "mmap", where);
  if (mlock(addr, size) != 0) {
    int err = errno;
    munmap(addr, size);
    throw SystemError(env, err, "mlock", where);
  }
  return Wrap(env, addr, size);
}

// mapFile(path, size, create): a file mapped MAP_SHARED read/write (a PCI BAR's resourceN,
// or a shared-memory file). With `create`, the file is created and sized first.
Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean()) {
    throw Napi::TypeError::New(env, "mapFile(path: string, size: number, create: boolean)");
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  double want = info[1].As<Napi::Number>().DoubleValue();
  bool create = info[2].As<Napi::Boolean>().Value();
  if (!(want >= 0) || want > 1099511627776.0) throw Napi::RangeError::New(env, "mapFile: size out of range");
  Fd fd(open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), S_IRUSR | S_IWUSR));
  if (!fd.ok()) throw SystemError(env, errno, "open", path);
  size_t size = static_cast<size_t>(want);
  if (size == 0 || create) {
    struct stat st;
    if (fstat(fd.get(), &st) != 0) throw SystemError(env, errno, "fstat", path);
    if (size == 0) {
      size = static_cast<size_t>(st.st_size);
    } else if (static_cast<size_t>(st.st_size) < size && ftruncate(fd.get(), static_cast<off_t>(size)) != 0) {
      throw SystemError(env, errno, "ftruncate", path);
    }
  }
  if (size == 0) throw SystemError(env, EINVAL, "mmap", path, "the file is empty");
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (addr == MAP_FAILED) throw SystemError(env, errno, "mmap", path);
  return Wrap(env, addr, size);
}

// mapFd(fd, offset, size): `size` bytes of an open file descriptor at `offset`, MAP_SHARED
// read/write (a VFIO device's BAR region). The descriptor stays open.
Napi::Value MapFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "mapFd(fd: number, offset: number, size: number)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  double offset = info[1].As<Napi::Number>().DoubleValue();
  double size = info[2].As<Napi::Number>().DoubleValue();
  if (!(size > 0) || !(offset >= 0)) throw Napi::RangeError::New(env, "mapFd: bad offset or size");
  void* addr = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    static_cast<off_t>(offset));
  if (addr == MAP_FAILED) throw SystemError(env, errno, "mmap", "", "fd " + std::to_string(fd));
  return Wrap(env, addr, static_cast<size_t>(size));
}

// unmap(buffer): unmaps at once and detaches the ArrayBuffer, so stale views read nothing
// instead of faulting. Returns false for a buffer this addon did not map (or already unmapped).
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "unmap(buffer: ArrayBuffer)");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  Mapping* m = Take(ab.Data(), ab.ByteLength());
  if (m == nullptr) return Napi::Boolean::New(env, false);
  ab.Detach();
  munmap(m->addr, m->len);
  m->state = Mapping::kFreed;
  Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(m->len));
  return Napi::Boolean::New(env, true);
}

// physAddrs(buffer, stride): the physical address of every `stride`-th byte of the buffer,
// read from /proc/self/pagemap (8 bytes per 4 KiB page: bits 0-54 PFN, bit 63 present).
Napi::Value PhysAddrs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArrayBuffer() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "physAddrs(buffer: ArrayBuffer, stride: number)");
  }
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  size_t stride = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
  if (stride == 0 || ab.ByteLength() == 0) throw Napi::RangeError::New(env, "empty buffer or zero stride");
  size_t count = (ab.ByteLength() + stride - 1) / stride;
  // a larger result would be a fatal out-of-memory in V8, not an exception
  if (count > (1u << 24)) throw Napi::RangeError::New(env, "physAddrs: more than 2^24 addresses (use a larger stride)");
  const long page = sysconf(_SC_PAGESIZE);
  const char* pagemap = "/proc/self/pagemap";
  Fd fd(open(pagemap, O_RDONLY | O_CLOEXEC));
  if (!fd.ok()) throw SystemError(env, errno, "open", pagemap);
  Napi::Float64Array out = Napi::Float64Array::New(env, count);  // may throw: fd closes
  auto base = reinterpret_cast<uintptr_t>(ab.Data());
  for (size_t i = 0; i < count; i++) {
    uintptr_t virt = base + i * stride;
    uint64_t entry = 0;
    ssize_t n = pread(fd.get(), &entry, sizeof(entry), static_cast<off_t>((virt / page) * sizeof(entry)));
    if (n != sizeof(entry)) throw SystemError(env, n < 0 ? errno : EIO, "pread", pagemap);
    uint64_t pfn = entry & ((1ULL << 55) - 1);
    if (!(entry >> 63)) throw SystemError(env, EFAULT, "pread", pagemap, "page not present");
    if (pfn == 0) throw SystemError(env, EPERM, "pread", pagemap, "PFN hidden (needs CAP_SYS_ADMIN)");
    out[i] = static_cast<double>(pfn * page + virt % page);
  }
  return out;
}

// address(buffer): the virtual address of a buffer's first byte (for tests and diagnostics).
Napi::Value Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "address(buffer: ArrayBuffer)");
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data())));
}

// ---- sleeping until a peer or a device wakes us (the poll loop's idle waits) ----

// The address of a 4-byte-aligned 32-bit word inside an ArrayBuffer (or null with a TypeError).
int32_t* WordAt(Napi::Env env, const Napi::Value& buf, const Napi::Value& off) {
  if (!buf.IsArrayBuffer() || !off.IsNumber()) throw Napi::TypeError::New(env, "expected (ArrayBuffer, byteOffset)");
  Napi::ArrayBuffer ab = buf.As<Napi::ArrayBuffer>();
  int64_t at = off.As<Napi::Number>().Int64Value();
  if (at < 0 || (at & 3) != 0 || static_cast<size_t>(at) + 4 > ab.ByteLength()) {
    throw Napi::RangeError::New(env, "futex word outside the buffer or not 4-byte aligned");
  }
  return reinterpret_cast<int32_t*>(static_cast<uint8_t*>(ab.Data()) + at);
}

// futexWake(buffer, byteOffset, count): wakes up to `count` waiters on a word of shared memory
// (a process-shared futex: no FUTEX_PRIVATE_FLAG, so waiters in other processes wake too).
Napi::Value FutexWake(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[2].IsNumber()) throw Napi::TypeError::New(env, "futexWake(buffer, byteOffset, count)");
  int32_t* word = WordAt(env, info[0], info[1]);
  long n = syscall(SYS_futex, word, FUTEX_WAKE, info[2].As<Napi::Number>().Int32Value(), nullptr, nullptr, 0);
  if (n < 0) throw SystemError(env, errno, "futex");
  return Napi::Number::New(env, static_cast<double>(n));
}

double NowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

timespec RelativeTimespec(double ms) {
  if (ms < 0) ms = 0;
  timespec ts;
  ts.tv_sec = static_cast<time_t>(ms / 1000);
  ts.tv_nsec = static_cast<long>((ms - ts.tv_sec * 1000.0) * 1e6);
  return ts;
}

// waitAny(fds: Int32Array, futexBuffers: ArrayBuffer[], futexOffsets: number[], futexValues:
// number[], timeoutMs): sleeps until one of the fds is readable (an eventfd of an interrupt),
// one of the futex words no longer holds its value or is woken, a signal arrives, or the
// timeout passes. Returns true when woken, false on timeout. Readable eventfds are read (reset).
// One futex: FUTEX_WAIT; several: futex_waitv; fds (with or without futexes): ppoll, in slices
// of at most 1 ms while futexes are watched too (a futex cannot be polled).
Napi::Value WaitAny(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsTypedArray() || !info[1].IsArray() || !info[2].IsArray() || !info[3].IsArray() || !info[4].IsNumber()) {
    throw Napi::TypeError::New(env, "waitAny(fds: Int32Array, futexBuffers: ArrayBuffer[], futexOffsets: number[], futexValues: number[], timeoutMs)");
  }
  Napi::TypedArray fdsArray = info[0].As<Napi::TypedArray>();
  if (fdsArray.TypedArrayType() != napi_int32_array) throw Napi::TypeError::New(env, "waitAny: fds must be an Int32Array");
  Napi::Int32Array fdsView = fdsArray.As<Napi::Int32Array>();
  Napi::Array bufs = info[1].As<Napi::Array>();
  Napi::Array offs = info[2].As<Napi::Array>();
  Napi::Array vals = info[3].As<Napi::Array>();
  double timeout = info[4].As<Napi::Number>().DoubleValue();
  uint32_t nf = bufs.Length();
  if (offs.Length() != nf || vals.Length() != nf) throw Napi::TypeError::New(env, "waitAny: one offset and one value per futex buffer");
  if (nf > 128) throw Napi::RangeError::New(env, "waitAny: at most 128 futexes");
  size_t nfd = fdsView.ElementLength();
  if (nfd > 64) throw Napi::RangeError::New(env, "waitAny: at most 64 fds");
  int32_t* words[128];
  int32_t expect[128];
  for (uint32_t i = 0; i < nf; i++) {
    words[i] = WordAt(env, bufs.Get(i), offs.Get(i));
    expect[i] = vals.Get(i).As<Napi::Number>().Int32Value();
    if (__atomic_load_n(words[i], __ATOMIC_SEQ_CST) != expect[i]) return Napi::Boolean::New(env, true);
  }
  if (nfd == 0 && nf == 0) {
    timespec ts = RelativeTimespec(timeout);
    nanosleep(&ts, nullptr);
    return Napi::Boolean::New(env, false);
  }
  if (nfd == 0 && nf == 1) {
    timespec ts = RelativeTimespec(timeout);
    long r = syscall(SYS_futex, words[0], FUTEX_WAIT, expect[0], &ts, nullptr, 0);
    if (r == 0) return Napi::Boolean::New(env, true);
    if (errno == ETIMEDOUT) return Napi::Boolean::New(env, false);
    if (errno == EAGAIN || errno == EINTR) return Napi::Boolean::New(env, true);
    throw SystemError(env, errno, "futex");
  }
  if (nfd == 0) {
    WaitvEntry w[128];
    for (uint32_t i = 0; i < nf; i++) {
      w[i].val = static_cast<uint32_t>(expect[i]);
      w[i].uaddr = reinterpret_cast<uintptr_t>(words[i]);
      w[i].flags = FUTEX_32;
      w[i].reserved = 0;
    }
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    timespec rel = RelativeTimespec(timeout);
    timespec abs = {now.tv_sec + rel.tv_sec, now.tv_nsec + rel.tv_nsec};
    if (abs.tv_nsec >= 1000000000L) {
      abs.tv_sec++;
      abs.tv_nsec -= 1000000000L;
    }
    long r = syscall(SYS_futex_waitv, w, nf, 0, &abs, CLOCK_MONOTONIC);
    if (r >= 0) return Napi::Boolean::New(env, true);
    if (errno == ETIMEDOUT) return Napi::Boolean::New(env, false);
    if (errno == EAGAIN || errno == EINTR) return Napi::Boolean::New(env, true);
    if (errno != ENOSYS) throw SystemError(env, errno, "futex_waitv");
    // kernels before 5.16: fall through to polling the words in slices
  }
  pollfd pfds[64];
  for (size_t i = 0; i < nfd; i++) pfds[i] = {fdsView[i], POLLIN, 0};
  double end = NowMs() + timeout;
  for (;;) {
    double left = end - NowMs();
    if (left <= 0) return Napi::Boolean::New(env, false);
    timespec ts = RelativeTimespec(nf > 0 && left > 1 ? 1 : left);
    int r = ppoll(pfds, nfd, &ts, nullptr);
    if (r < 0) {
      if (errno == EINTR) return Napi::Boolean::New(env, true);
      throw SystemError(env, errno, "ppoll");
    }
    if (r > 0) {
      for (size_t i = 0; i < nfd; i++) {
        if (pfds[i].revents & POLLIN) {
          uint64_t count;
          ssize_t got = read(pfds[i].fd, &count, sizeof count);  // an eventfd: reset it
          (void)got;
        }
      }
      return Napi::Boolean::New(env, true);
    }
    for (uint32_t i = 0; i < nf; i++) {
      if (__atomic_load_n(words[i], __ATOMIC_SEQ_CST) != expect[i]) return Napi::Boolean::New(env, true);
    }
  }
}

// ---- byte-range locks on open file descriptions (cable ends) ----

// lockRange(fd, start, length, type, wait): an open-file-description lock (F_OFD_SETLK, or
// F_OFD_SETLKW with wait) of type 'read', 'write' or 'unlock'. Held by the open file
// description, released by the kernel when it closes (a crashed process included), and it
// conflicts with every other open file description, in this process too. Returns false when
// another one holds a conflicting lock (and `wait` is false).
Napi::Value LockRange(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsString() || !info[4].IsBoolean()) {
    throw Napi::TypeError::New(env, "lockRange(fd, start, length, 'read' | 'write' | 'unlock', wait)");
  }
  std::string type = info[3].As<Napi::String>().Utf8Value();
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = type == "read" ? F_RDLCK : type == "write" ? F_WRLCK : F_UNLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(info[1].As<Napi::Number>().Int64Value());
  fl.l_len = static_cast<off_t>(info[2].As<Napi::Number>().Int64Value());
  bool wait = info[4].As<Napi::Boolean>().Value();
  int fd = info[0].As<Napi::Number>().Int32Value();
  for (;;) {
    if (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == 0) return Napi::Boolean::New(env, true);
    if (errno == EINTR && wait) continue;
    if (errno == EAGAIN || errno == EACCES) return Napi::Boolean::New(env, false);
    throw SystemError(env, errno, "fcntl");
  }
}

// rangeLocked(fd, start, length, type): would a lock of `type` conflict with one another open
// file description holds (F_OFD_GETLK)? Locks of this fd's own description never conflict.
Napi::Value RangeLocked(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsString()) {
    throw Napi::TypeError::New(env, "rangeLocked(fd, start, length, 'read' | 'write')");
  }
  struct flock fl;
  memset(&fl, 0, sizeof fl);
  fl.l_type = info[3].As<Napi::String>().Utf8Value() == "read" ? F_RDLCK : F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = static_cast<off_t>(info[1].As<Napi::Number>().Int64Value());
  fl.l_len = static_cast<off_t>(info[2].As<Napi::Number>().Int64Value());
  if (fcntl(info[0].As<Napi::Number>().Int32Value(), F_OFD_GETLK, &fl) != 0) throw SystemError(env, errno, "fcntl");
  return Napi::Boolean::New(env, fl.l_type != F_UNLCK);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocHugepages", Napi::Function::New(env, AllocHugepages));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("mapFd", Napi::Function::New(env, MapFd));
  exports.Set("unmap", Napi::Function::New(env, Unmap));
  exports.Set("physAddrs", Napi::Function::New(env, PhysAddrs));
  exports.Set("address", Napi::Function::New(env, Address));
  exports.Set("futexWake", Napi::Function::New(env, FutexWake));
  exports.Set("waitAny", Napi::Function::New(env, WaitAny));
  exports.Set("lockRange", Napi::Function::New(env, LockRange));
  exports.Set("rangeLocked", Napi::Function::New(env, RangeLocked));
  return exports;
}

}  // namespace

NODE_API_MODULE(ixy_memory, Init)
