// vfiokit shim: a memory copy that survives SIGBUS. A vfio-user server maps the memory files its
// clients pass with DMA_MAP; a client whose file is not sealed against shrinking (F_SEAL_SHRINK,
// include/uapi/linux/fcntl.h) can truncate it under the mapping, and the next access past the
// new end of file raises SIGBUS (mm/shmem.c shmem_fault returns VM_FAULT_SIGBUS past i_size).
// QEMU passes guest RAM unsealed in common setups (memory-backend-file, memory-backend-memfd
// with seal=off; backends/hostmem-memfd.c), so the server cannot refuse such fds: it copies
// device DMA through vk_copy_guarded, which turns a SIGBUS inside the copy into a return value.
// A SIGBUS anywhere else goes to the handler that was installed before ours (default: die).
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VK_EXPORT __attribute__((visibility("default")))

static struct sigaction vk_previous;
static volatile sig_atomic_t vk_installed;
/* Per thread: the jump target while a guarded copy runs, else NULL. */
static __thread sigjmp_buf *volatile vk_guard;

static void vk_sigbus(int sig, siginfo_t *info, void *uctx) {
  sigjmp_buf *env = vk_guard;
  if (env != NULL) {
    vk_guard = NULL;
    siglongjmp(*env, 1);
  }
  /* Not ours: hand it to whoever had SIGBUS before (or restore the default and re-fault). */
  if (vk_previous.sa_flags & SA_SIGINFO) {
    if (vk_previous.sa_sigaction) { vk_previous.sa_sigaction(sig, info, uctx); return; }
  } else if (vk_previous.sa_handler != SIG_DFL && vk_previous.sa_handler != SIG_IGN) {
    vk_previous.sa_handler(sig);
    return;
  }
  signal(SIGBUS, SIG_DFL); /* the faulting instruction runs again and the process dies as before */
}

static int vk_install(void) {
  if (vk_installed) return 0;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = vk_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  if (sigaction(SIGBUS, &sa, &vk_previous) != 0) return -1;
  vk_installed = 1;
  return 0;
}

/*
 * Copy n bytes from src to dst. Returns n, or -1 when the copy touched memory whose backing file
 * is gone (SIGBUS): some prefix of dst may have been written. -2 if the handler cannot be set.
 */
VK_EXPORT int64_t vk_copy_guarded(void *dst, const void *src, size_t n) {
  if (vk_install() != 0) return -2;
  sigjmp_buf env;
  if (sigsetjmp(env, 1) != 0) return -1; /* 1: restore the signal mask (SIGBUS unblocked again) */
  vk_guard = &env;
  memcpy(dst, src, n);
  vk_guard = NULL;
  return (int64_t)n;
}
