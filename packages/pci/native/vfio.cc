// @ixy/pci native addon: the VFIO ioctls (linux/vfio.h) and eventfds, which JavaScript cannot
// issue. Flat functions on file descriptors; all logic is in src/vfio.ts. Errors are shaped like
// Node's fs errors (code, errno, syscall, path: ixy-native.h, shared with @ixy/memory's addon)
// and never exit the process. No state: safe in every worker thread.
#include <napi.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/vfio.h>
#include <string>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <vector>
#include <unistd.h>

#include "ixy-native.h"

namespace {

using ixy::Fd;
using ixy::SystemError;

int FdArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a file descriptor");
  return info[i].As<Napi::Number>().Int32Value();
}

// openContainer(): /dev/vfio/vfio, checked for the API version and the type-1 IOMMU.
Napi::Value OpenContainer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* path = "/dev/vfio/vfio";
  Fd fd(open(path, O_RDWR | O_CLOEXEC));
  if (!fd.ok()) throw SystemError(env, errno, "open", path);
  int version = ioctl(fd.get(), VFIO_GET_API_VERSION);
  if (version != VFIO_API_VERSION) {
    throw SystemError(env, version < 0 ? errno : EINVAL, "VFIO_GET_API_VERSION", path,
                      "API version " + std::to_string(version) + ", " + std::to_string(VFIO_API_VERSION) + " expected");
  }
  int type1 = ioctl(fd.get(), VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU);
  if (type1 != 1) {
    throw SystemError(env, type1 < 0 ? errno : ENODEV, "VFIO_CHECK_EXTENSION", path, "no VFIO_TYPE1_IOMMU");
  }
  return Napi::Number::New(env, fd.release());
}

// addGroup(container, groupPath, first): opens the group, checks it is viable (every device of
// it bound to vfio-pci), puts it in the container; for the first group also sets the IOMMU
// type. Returns the group's fd. A group that is not viable: EBUSY from VFIO_GROUP_GET_STATUS.
Napi::Value AddGroup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int container = FdArg(info, 0);
  if (info.Length() < 3 || !info[1].IsString() || !info[2].IsBoolean()) {
    throw Napi::TypeError::New(env, "addGroup(container: number, groupPath: string, first: boolean)");
  }
  std::string path = info[1].As<Napi::String>().Utf8Value();
  bool first = info[2].As<Napi::Boolean>().Value();
  Fd group(open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!group.ok()) throw SystemError(env, errno, "open", path);
  vfio_group_status status = {};
  status.argsz = sizeof(status);
  if (ioctl(group.get(), VFIO_GROUP_GET_STATUS, &status) != 0) throw SystemError(env, errno, "VFIO_GROUP_GET_STATUS", path);
  if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
    throw SystemError(env, EBUSY, "VFIO_GROUP_GET_STATUS", path,
                      "the group is not viable (bind every device of the group to vfio-pci)");
  }
  if (ioctl(group.get(), VFIO_GROUP_SET_CONTAINER, &container) != 0) {
    throw SystemError(env, errno, "VFIO_GROUP_SET_CONTAINER", path);
  }
  // closing the group (on a throw) takes it out of the container again
  if (first && ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) != 0) throw SystemError(env, errno, "VFIO_SET_IOMMU", path);
  return Napi::Number::New(env, group.release());
}

// deviceFd(group, address): the device's fd (BARs and config space are regions of it).
Napi::Value DeviceFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int group = FdArg(info, 0);
  if (info.Length() < 2 || !info[1].IsString()) throw Napi::TypeError::New(env, "deviceFd(group: number, address: string)");
  std::string address = info[1].As<Napi::String>().Utf8Value();
  Fd fd(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, address.c_str()));
  if (!fd.ok()) throw SystemError(env, errno, "VFIO_GROUP_GET_DEVICE_FD", "", address);
  return Napi::Number::New(env, fd.release());
}

// regionInfo(device, index): { offset, size, flags } of a region (BAR 0-5, ROM 6, config 7).
Napi::Value RegionInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = FdArg(info, 0);
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "regionInfo(device: number, index: number)");
  vfio_region_info region = {};
  region.argsz = sizeof(region);
  region.index = info[1].As<Napi::Number>().Uint32Value();
  if (ioctl(device, VFIO_DEVICE_GET_REGION_INFO, &region) != 0) throw SystemError(env, errno, "VFIO_DEVICE_GET_REGION_INFO");
  Napi::Object out = Napi::Object::New(env);
  out.Set("offset", Napi::Number::New(env, static_cast<double>(region.offset)));
  out.Set("size", Napi::Number::New(env, static_cast<double>(region.size)));
  out.Set("flags", Napi::Number::New(env, region.flags));
  return out;
}

// mapDma(container, buffer, iova): makes the buffer reachable by the devices of the container
// at I/O virtual address `iova` (VFIO_IOMMU_MAP_DMA, read and write).
Napi::Value MapDma(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int container = FdArg(info, 0);
  if (info.Length() < 3 || !info[1].IsArrayBuffer() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "mapDma(container: number, buffer: ArrayBuffer, iova: number)");
  }
  Napi::ArrayBuffer ab = info[1].As<Napi::ArrayBuffer>();
  vfio_iommu_type1_dma_map map = {};
  map.argsz = sizeof(map);
  map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
  map.vaddr = reinterpret_cast<uint64_t>(ab.Data());
  map.iova = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  map.size = ab.ByteLength();
  if (ioctl(container, VFIO_IOMMU_MAP_DMA, &map) != 0) throw SystemError(env, errno, "VFIO_IOMMU_MAP_DMA");
  return env.Undefined();
}

// unmapDma(container, iova, size)
Napi::Value UnmapDma(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int container = FdArg(info, 0);
  if (info.Length() < 3 || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "unmapDma(container: number, iova: number, size: number)");
  }
  vfio_iommu_type1_dma_unmap unmap = {};
  unmap.argsz = sizeof(unmap);
  unmap.iova = static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue());
  unmap.size = static_cast<uint64_t>(info[2].As<Napi::Number>().DoubleValue());
  if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap) != 0) throw SystemError(env, errno, "VFIO_IOMMU_UNMAP_DMA");
  return env.Undefined();
}

// ---- interrupts: eventfds bound to a device's IRQs (VFIO_DEVICE_SET_IRQS) ----

// eventfd(): a non-blocking, close-on-exec eventfd with count 0; the kernel adds 1 per
// interrupt, a read returns the count and resets it. Closed with fs.closeSync.
Napi::Value Eventfd(const Napi::CallbackInfo& info) {
  Fd fd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!fd.ok()) throw SystemError(info.Env(), errno, "eventfd");
  return Napi::Number::New(info.Env(), fd.release());
}

// irqInfo(device, index): { count, flags } of an IRQ index (VFIO_PCI_INTX/MSI/MSIX_IRQ_INDEX:
// 0/1/2). count: the vectors (MSI-X: the table size, 0 without MSI-X); flags VFIO_IRQ_INFO_*.
Napi::Value IrqInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = FdArg(info, 0);
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "irqInfo(device: number, index: number)");
  vfio_irq_info irq = {};
  irq.argsz = sizeof(irq);
  irq.index = info[1].As<Napi::Number>().Uint32Value();
  if (ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, &irq) != 0) throw SystemError(env, errno, "VFIO_DEVICE_GET_IRQ_INFO");
  Napi::Object out = Napi::Object::New(env);
  out.Set("count", Napi::Number::New(env, irq.count));
  out.Set("flags", Napi::Number::New(env, irq.flags));
  return out;
}

// setIrqEventfds(device, index, start, fds: Int32Array): vectors start..start+n-1 of the IRQ
// index signal fds[0..n-1] (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER; for MSI-X
// this also enables MSI-X on the device). An fd of -1 leaves its vector unbound.
Napi::Value SetIrqEventfds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = FdArg(info, 0);
  if (info.Length() < 4 || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsTypedArray() ||
      info[3].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "setIrqEventfds(device: number, index: number, start: number, fds: Int32Array)");
  }
  Napi::Int32Array fds = info[3].As<Napi::Int32Array>();
  size_t n = fds.ElementLength();
  if (n == 0 || n > 2048) throw Napi::RangeError::New(env, "setIrqEventfds: 1 to 2048 eventfds");
  // struct vfio_irq_set is followed by one __s32 eventfd per vector
  std::vector<uint8_t> buf(sizeof(vfio_irq_set) + n * sizeof(int32_t));
  vfio_irq_set* set = reinterpret_cast<vfio_irq_set*>(buf.data());
  set->argsz = static_cast<uint32_t>(buf.size());
  set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
  set->index = info[1].As<Napi::Number>().Uint32Value();
  set->start = info[2].As<Napi::Number>().Uint32Value();
  set->count = static_cast<uint32_t>(n);
  memcpy(set->data, fds.Data(), n * sizeof(int32_t));
  if (ioctl(device, VFIO_DEVICE_SET_IRQS, set) != 0) throw SystemError(env, errno, "VFIO_DEVICE_SET_IRQS");
  return env.Undefined();
}

// disableIrqs(device, index): unbinds every vector of the IRQ index and, for MSI-X, disables
// it on the device (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, count 0).
Napi::Value DisableIrqs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int device = FdArg(info, 0);
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "disableIrqs(device: number, index: number)");
  vfio_irq_set set = {};
  set.argsz = sizeof(set);
  set.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
  set.index = info[1].As<Napi::Number>().Uint32Value();
  set.start = 0;
  set.count = 0;
  if (ioctl(device, VFIO_DEVICE_SET_IRQS, &set) != 0) throw SystemError(env, errno, "VFIO_DEVICE_SET_IRQS");
  return env.Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openContainer", Napi::Function::New(env, OpenContainer));
  exports.Set("addGroup", Napi::Function::New(env, AddGroup));
  exports.Set("deviceFd", Napi::Function::New(env, DeviceFd));
  exports.Set("regionInfo", Napi::Function::New(env, RegionInfo));
  exports.Set("mapDma", Napi::Function::New(env, MapDma));
  exports.Set("unmapDma", Napi::Function::New(env, UnmapDma));
  exports.Set("eventfd", Napi::Function::New(env, Eventfd));
  exports.Set("irqInfo", Napi::Function::New(env, IrqInfo));
  exports.Set("setIrqEventfds", Napi::Function::New(env, SetIrqEventfds));
  exports.Set("disableIrqs", Napi::Function::New(env, DisableIrqs));
  return exports;
}

}  // namespace

NODE_API_MODULE(ixy_pci, Init)
