// Shared by the native addons of @ixy/memory and @ixy/pci (packages/pci/binding.gyp adds this
// directory to its include path): one errno mapping and one error shape, and an fd owner that
// closes on every early return and every C++ exception.
#pragma once

#include <napi.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <unistd.h>
#include <utility>

namespace ixy {

// Every Linux errno (asm-generic/errno-base.h, errno.h) by its name, so a JavaScript caller
// matches `err.code` exactly as for Node's own fs errors. Aliases (EWOULDBLOCK, EDEADLOCK,
// ENOTSUP) share a number with the name listed.
#define IXY_ERRNO_NAMES(X)                                                                            \
  X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) X(EBADF) X(ECHILD) X(EAGAIN) \
  X(ENOMEM) X(EACCES) X(EFAULT) X(ENOTBLK) X(EBUSY) X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR)   \
  X(EINVAL) X(ENFILE) X(EMFILE) X(ENOTTY) X(ETXTBSY) X(EFBIG) X(ENOSPC) X(ESPIPE) X(EROFS) X(EMLINK)    \
  X(EPIPE) X(EDOM) X(ERANGE) X(EDEADLK) X(ENAMETOOLONG) X(ENOLCK) X(ENOSYS) X(ENOTEMPTY) X(ELOOP)       \
  X(ENOMSG) X(EIDRM) X(ECHRNG) X(EL2NSYNC) X(EL3HLT) X(EL3RST) X(ELNRNG) X(EUNATCH) X(ENOCSI) X(EL2HLT) \
  X(EBADE) X(EBADR) X(EXFULL) X(ENOANO) X(EBADRQC) X(EBADSLT) X(EBFONT) X(ENOSTR) X(ENODATA) X(ETIME)   \
  X(ENOSR) X(ENONET) X(ENOPKG) X(EREMOTE) X(ENOLINK) X(EADV) X(ESRMNT) X(ECOMM) X(EPROTO) X(EMULTIHOP)  \
  X(EDOTDOT) X(EBADMSG) X(EOVERFLOW) X(ENOTUNIQ) X(EBADFD) X(EREMCHG) X(ELIBACC) X(ELIBBAD) X(ELIBSCN)  \
  X(ELIBMAX) X(ELIBEXEC) X(EILSEQ) X(ERESTART) X(ESTRPIPE) X(EUSERS) X(ENOTSOCK) X(EDESTADDRREQ)        \
  X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT) X(EPROTONOSUPPORT) X(ESOCKTNOSUPPORT) X(EOPNOTSUPP)          \
  X(EPFNOSUPPORT) X(EAFNOSUPPORT) X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN) X(ENETUNREACH)             \
  X(ENETRESET) X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS) X(EISCONN) X(ENOTCONN) X(ESHUTDOWN)             \
  X(ETOOMANYREFS) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN) X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS)  \
  X(ESTALE) X(EUCLEAN) X(ENOTNAM) X(ENAVAIL) X(EISNAM) X(EREMOTEIO) X(EDQUOT) X(ENOMEDIUM)              \
  X(EMEDIUMTYPE) X(ECANCELED) X(ENOKEY) X(EKEYEXPIRED) X(EKEYREVOKED) X(EKEYREJECTED) X(EOWNERDEAD)     \
  X(ENOTRECOVERABLE) X(ERFKILL) X(EHWPOISON)

inline const char* ErrnoName(int err) {
  switch (err) {
#define IXY_ERRNO_CASE(name) \
  case name:                 \
    return #name;
    IXY_ERRNO_NAMES(IXY_ERRNO_CASE)
#undef IXY_ERRNO_CASE
    default:
      return "EUNKNOWN";
  }
}

// An Error shaped like Node's fs errors: `code` ('ENOENT'), `errno` (negative, as Node's:
// util.getSystemErrorName(err.errno) names it), `syscall` (the call or ioctl that failed) and
// `path` when there is one. The message reads "<syscall> failed: <strerror> (<path>)", then
// `detail` when given: a sentence for people; JavaScript decides on the fields, never on it.
inline Napi::Error SystemError(Napi::Env env, int err, const std::string& syscall, const std::string& path = "",
                               const std::string& detail = "") {
  std::string msg = syscall + " failed: " + strerror(err);
  if (!path.empty()) msg += " (" + path + ")";
  if (!detail.empty()) msg += ": " + detail;
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) e.Set("path", Napi::String::New(env, path));
  return e;
}

// Owns a file descriptor: closes it when it goes out of scope (a return, a throw, a
// Napi::Error from a failed allocation) unless release() handed it on.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      if (fd_ >= 0) close(fd_);
      fd_ = other.release();
    }
    return *this;
  }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_;
};

}  // namespace ixy
