// @ixy/memory native addon: only what JavaScript cannot do. mmap/munmap/mlock of hugepages
// and shared files, and /proc/self/pagemap reads. Every function throws a Napi::Error shaped
// like Node's SystemError (code, syscall, path) and never exits the process.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <unordered_map>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 0x0004U
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 0x0001U
#endif

namespace {

constexpr size_t kHugePage = 2u << 20;

// One mapping handed to JavaScript as an external ArrayBuffer. `freed` is set by an explicit
// unmap; the finalizer (which runs when the ArrayBuffer is collected) then only deletes it.
struct Mapping {
  void* addr;
  size_t len;
  bool freed;
};

std::unordered_map<void*, Mapping*> mappings;

Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& path = "") {
  std::string msg = std::string(syscall) + " failed: " + strerror(err);
  if (!path.empty()) msg += " (" + path + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  const char* code = "EUNKNOWN";
  switch (err) {
    case ENOMEM: code = "ENOMEM"; break;
    case EACCES: code = "EACCES"; break;
    case EPERM: code = "EPERM"; break;
    case ENOENT: code = "ENOENT"; break;
    case EINVAL: code = "EINVAL"; break;
    case ENODEV: code = "ENODEV"; break;
    case EBUSY: code = "EBUSY"; break;
    case ENOSYS: code = "ENOSYS"; break;
    case EFAULT: code = "EFAULT"; break;
    case EIO: code = "EIO"; break;
  }
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

void Finalize(Napi::Env env, void* /*data*/, Mapping* m) {
  if (!m->freed) {
    munmap(m->addr, m->len);
    mappings.erase(m->addr);
    Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(m->len));
  }
  delete m;
}

Napi::Value Wrap(Napi::Env env, void* addr, size_t len) {
  auto* m = new Mapping{addr, len, false};
  mappings[addr] = m;
  Napi::ArrayBuffer ab;
  napi_value value;
  napi_status status = napi_create_external_arraybuffer(
      env, addr, len,
      [](napi_env e, void* data, void* hint) { Finalize(Napi::Env(e), data, static_cast<Mapping*>(hint)); },
      m, &value);
  if (status != napi_ok) {
    munmap(addr, len);
    mappings.erase(addr);
    delete m;
    Napi::Error e = Napi::Error::New(env,
        "this JavaScript runtime does not allow external ArrayBuffers (a V8 memory cage, as in "
        "Electron); ixy-ts needs Node.js to map device and DMA memory");
    e.Set("code", Napi::String::New(env, "ENOEXTERNAL"));
    throw e;
  }
  Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(len));
  return Napi::Value(env, value);
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
  int fd = static_cast<int>(syscall(SYS_memfd_create, "ixy-dma", MFD_HUGETLB | MFD_CLOEXEC));
  if (fd < 0) {
    if (dir.empty()) throw SystemError(env, errno, "memfd_create");
    static unsigned counter = 0;
    where = dir + "/ixy-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    fd = open(where.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, S_IRWXU);
    if (fd < 0) throw SystemError(env, errno, "open", where);
    unlink(where.c_str());
  }
  if (ftruncate(fd, static_cast<off_t>(size)) != 0) {
    int err = errno;
    close(fd);
    throw SystemError(env, err, "ftruncate", where);
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_HUGETLB | MAP_POPULATE, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) throw SystemError(env, err, "mmap", where);
  if (mlock(addr, size) != 0) {
    err = errno;
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
  int fd = open(path.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), S_IRUSR | S_IWUSR);
  if (fd < 0) throw SystemError(env, errno, "open", path);
  size_t size = static_cast<size_t>(want);
  if (want <= 0) {
    struct stat st;
    if (fstat(fd, &st) != 0) {
      int err = errno;
      close(fd);
      throw SystemError(env, err, "fstat", path);
    }
    size = static_cast<size_t>(st.st_size);
  } else if (create) {
    struct stat st;
    if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) < size && ftruncate(fd, static_cast<off_t>(size)) != 0) {
      int err = errno;
      close(fd);
      throw SystemError(env, err, "ftruncate", path);
    }
  }
  if (size == 0) {
    close(fd);
    throw SystemError(env, EINVAL, "mmap", path);
  }
  void* addr = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  int err = errno;
  close(fd);
  if (addr == MAP_FAILED) throw SystemError(env, err, "mmap", path);
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
  if (!(size > 0) || offset < 0) throw Napi::RangeError::New(env, "mapFd: bad offset or size");
  void* addr = mmap(nullptr, static_cast<size_t>(size), PROT_READ | PROT_WRITE, MAP_SHARED, fd,
                    static_cast<off_t>(offset));
  if (addr == MAP_FAILED) throw SystemError(env, errno, "mmap", "fd " + std::to_string(fd));
  return Wrap(env, addr, static_cast<size_t>(size));
}

// unmap(buffer): unmaps at once and detaches the ArrayBuffer, so stale views read nothing
// instead of faulting. Returns false for a buffer this addon did not map (or already unmapped).
Napi::Value Unmap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "unmap(buffer: ArrayBuffer)");
  Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
  auto it = mappings.find(ab.Data());
  if (it == mappings.end()) return Napi::Boolean::New(env, false);
  Mapping* m = it->second;
  mappings.erase(it);
  ab.Detach();
  munmap(m->addr, m->len);
  m->freed = true;
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
  const long page = sysconf(_SC_PAGESIZE);
  int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw SystemError(env, errno, "open", "/proc/self/pagemap");
  Napi::Float64Array out = Napi::Float64Array::New(env, count);
  auto base = reinterpret_cast<uintptr_t>(ab.Data());
  for (size_t i = 0; i < count; i++) {
    uintptr_t virt = base + i * stride;
    uint64_t entry = 0;
    ssize_t n = pread(fd, &entry, sizeof(entry), static_cast<off_t>((virt / page) * sizeof(entry)));
    if (n != sizeof(entry)) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      throw SystemError(env, err, "pread", "/proc/self/pagemap");
    }
    uint64_t pfn = entry & ((1ULL << 55) - 1);
    if (!(entry >> 63)) {
      close(fd);
      throw SystemError(env, EFAULT, "pagemap: page not present", "/proc/self/pagemap");
    }
    if (pfn == 0) {
      close(fd);
      throw SystemError(env, EPERM, "pagemap: PFN hidden (needs CAP_SYS_ADMIN)", "/proc/self/pagemap");
    }
    out[i] = static_cast<double>(pfn * page + virt % page);
  }
  close(fd);
  return out;
}

// address(buffer): the virtual address of a buffer's first byte (for tests and diagnostics).
Napi::Value Address(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw Napi::TypeError::New(env, "address(buffer: ArrayBuffer)");
  return Napi::Number::New(env, static_cast<double>(reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data())));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("allocHugepages", Napi::Function::New(env, AllocHugepages));
  exports.Set("mapFile", Napi::Function::New(env, MapFile));
  exports.Set("mapFd", Napi::Function::New(env, MapFd));
  exports.Set("unmap", Napi::Function::New(env, Unmap));
  exports.Set("physAddrs", Napi::Function::New(env, PhysAddrs));
  exports.Set("address", Napi::Function::New(env, Address));
  return exports;
}

}  // namespace

NODE_API_MODULE(ixy_memory, Init)
