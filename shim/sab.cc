// vfiokit shim: the V8 entries. sharedBuffer wraps an address + length (an mmap of a BAR or a DMA
// buffer) as a real SharedArrayBuffer, so it can be posted to worker threads without a copy.
// Neither koffi nor Node-API can do this (reference/js-mmio.md).
//
// With unmap = true the mapping belongs to the buffer: it is munmapped by the backing store's
// deleter when the last SharedArrayBuffer referencing it (in any thread) is garbage collected, or
// earlier by unmapNow(address) when the owner knows no other reference exists (a region that
// never handed its buffer out). A record shared by both, under a mutex, makes sure the range is
// unmapped exactly once, so a later mapping that reuses the addresses is never touched.
#include <node.h>
#include <v8.h>
#include <sys/mman.h>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace {

struct Mapping {
  void *addr;
  size_t length;
  std::atomic<bool> unmapped{false};
};

std::mutex live_mutex;
std::unordered_map<uintptr_t, Mapping *> live;  // owned mappings not yet unmapped early

void UnmapOnce(Mapping *m) {
  if (!m->unmapped.exchange(true)) munmap(m->addr, m->length);
}

void OwnedDeleter(void *data, size_t, void *deleter_data) {
  Mapping *m = static_cast<Mapping *>(deleter_data);
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    auto it = live.find(reinterpret_cast<uintptr_t>(data));
    if (it != live.end() && it->second == m) live.erase(it);
  }
  UnmapOnce(m);
  delete m;
}

void BorrowedDeleter(void *, size_t, void *) {}

void Throw(v8::Isolate *isolate, const char *message, bool range) {
  v8::Local<v8::String> text = v8::String::NewFromUtf8(isolate, message).ToLocalChecked();
  isolate->ThrowException(range ? v8::Exception::RangeError(text) : v8::Exception::TypeError(text));
}

// sharedBuffer(address: bigint, length: number, unmap: boolean): SharedArrayBuffer
void SharedBuffer(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  if (info.Length() < 3 || !info[0]->IsBigInt() || !info[1]->IsNumber()) {
    Throw(isolate, "sharedBuffer(address: bigint, length: number, unmap: boolean)", false);
    return;
  }
  bool lossless = true;
  uint64_t address = info[0].As<v8::BigInt>()->Uint64Value(&lossless);
  double length = info[1].As<v8::Number>()->Value();
  bool unmap = info[2]->BooleanValue(isolate);
  if (!lossless || address == 0 || !(length > 0) || length > 9007199254740991.0 ||
      length != static_cast<double>(static_cast<size_t>(length))) {
    Throw(isolate, "sharedBuffer: address must be a non-null pointer and length a positive integer", true);
    return;
  }
  void *ptr = reinterpret_cast<void *>(static_cast<uintptr_t>(address));
  size_t len = static_cast<size_t>(length);
  std::unique_ptr<v8::BackingStore> store;
  if (unmap) {
    Mapping *m = new Mapping{ptr, len};
    {
      std::lock_guard<std::mutex> lock(live_mutex);
      live[static_cast<uintptr_t>(address)] = m;
    }
    store = v8::SharedArrayBuffer::NewBackingStore(ptr, len, OwnedDeleter, m);
  } else {
    store = v8::SharedArrayBuffer::NewBackingStore(ptr, len, BorrowedDeleter, nullptr);
  }
  info.GetReturnValue().Set(v8::SharedArrayBuffer::New(isolate, std::move(store)));
}

// unmapNow(address: bigint): boolean. munmap an owned mapping before its buffer is collected.
// The caller guarantees nothing will touch the buffer again. False when there is no such mapping.
void UnmapNow(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  if (info.Length() < 1 || !info[0]->IsBigInt()) {
    Throw(isolate, "unmapNow(address: bigint)", false);
    return;
  }
  bool lossless = true;
  uint64_t address = info[0].As<v8::BigInt>()->Uint64Value(&lossless);
  Mapping *m = nullptr;
  {
    std::lock_guard<std::mutex> lock(live_mutex);
    auto it = live.find(static_cast<uintptr_t>(address));
    if (it != live.end()) {
      m = it->second;
      live.erase(it);
    }
  }
  // The record itself stays alive until the deleter runs; only the range goes now.
  if (m != nullptr) UnmapOnce(m);
  info.GetReturnValue().Set(m != nullptr);
}

void Export(v8::Local<v8::Context> context, v8::Local<v8::Object> exports, const char *name, v8::FunctionCallback fn) {
  v8::Isolate *isolate = context->GetIsolate();
  exports->Set(context, v8::String::NewFromUtf8(isolate, name).ToLocalChecked(),
               v8::FunctionTemplate::New(isolate, fn)->GetFunction(context).ToLocalChecked()).Check();
}

}  // namespace

// Context-aware so the addon also loads in worker threads.
NODE_MODULE_INIT(/* exports, module, context */) {
  Export(context, exports, "sharedBuffer", SharedBuffer);
  Export(context, exports, "unmapNow", UnmapNow);
  exports->Set(context, v8::String::NewFromUtf8Literal(context->GetIsolate(), "abi"),
               v8::Integer::New(context->GetIsolate(), NODE_MODULE_VERSION)).Check();
}
