// vfiokit shim: the one V8 entry. Wraps an address + length (an mmap of a BAR or a DMA buffer) as
// a real SharedArrayBuffer, so it can be posted to worker threads without a copy. Neither koffi
// nor Node-API can do this (reference/js-mmio.md). When `unmap` is true, the mapping is munmapped
// by the backing store's deleter, i.e. when the last SharedArrayBuffer referencing it (in any
// thread) has been garbage collected.
#include <node.h>
#include <v8.h>
#include <sys/mman.h>
#include <cstdint>

namespace {

void UnmapDeleter(void *data, size_t length, void *deleter_data) {
  if (deleter_data != nullptr && data != nullptr && length > 0) munmap(data, length);
}

void NoopDeleter(void *, size_t, void *) {}

// sharedBuffer(address: bigint, length: number, unmap: boolean): SharedArrayBuffer
void SharedBuffer(const v8::FunctionCallbackInfo<v8::Value> &info) {
  v8::Isolate *isolate = info.GetIsolate();
  v8::Local<v8::Context> context = isolate->GetCurrentContext();
  if (info.Length() < 3 || !info[0]->IsBigInt() || !info[1]->IsNumber()) {
    isolate->ThrowException(v8::Exception::TypeError(
        v8::String::NewFromUtf8Literal(isolate, "sharedBuffer(address: bigint, length: number, unmap: boolean)")));
    return;
  }
  bool lossless = true;
  uint64_t address = info[0].As<v8::BigInt>()->Uint64Value(&lossless);
  double length = info[1].As<v8::Number>()->Value();
  bool unmap = info[2]->BooleanValue(isolate);
  if (!lossless || address == 0 || length < 0 || length > 9007199254740991.0 || length != static_cast<double>(static_cast<size_t>(length))) {
    isolate->ThrowException(v8::Exception::RangeError(
        v8::String::NewFromUtf8Literal(isolate, "sharedBuffer: address must be a non-null pointer and length fit a SharedArrayBuffer")));
    return;
  }
  std::unique_ptr<v8::BackingStore> store = v8::SharedArrayBuffer::NewBackingStore(
      reinterpret_cast<void *>(static_cast<uintptr_t>(address)), static_cast<size_t>(length),
      unmap ? UnmapDeleter : NoopDeleter, unmap ? reinterpret_cast<void *>(1) : nullptr);
  v8::Local<v8::SharedArrayBuffer> sab = v8::SharedArrayBuffer::New(isolate, std::move(store));
  info.GetReturnValue().Set(sab);
  (void)context;
}

}  // namespace

// Context-aware so the addon also loads in worker threads.
NODE_MODULE_INIT(/* exports, module, context */) {
  v8::Isolate *isolate = context->GetIsolate();
  exports->Set(context, v8::String::NewFromUtf8Literal(isolate, "sharedBuffer"),
               v8::FunctionTemplate::New(isolate, SharedBuffer)->GetFunction(context).ToLocalChecked()).Check();
  exports->Set(context, v8::String::NewFromUtf8Literal(isolate, "abi"),
               v8::Integer::New(isolate, NODE_MODULE_VERSION)).Check();
}
