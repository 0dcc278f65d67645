// Interposes the glibc allocator inside the `router` executable to count heap allocations.
// Definitions in the main executable take precedence over libc's; each forwards to glibc's __libc_* entry points.
// Besides the process total, each thread counts into a slot of its own (tagged with its kernel thread id), so a
// bench can attribute allocations to the session thread and the NIO event loop without contention.
#define _GNU_SOURCE
#include "alloc_counter.h"
#include <stddef.h>
#include <stdatomic.h>
#include <errno.h>
#include <unistd.h>
#include <sys/syscall.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define SLOTS 256
static _Atomic uint64_t counter = 0;
static _Atomic int active = 0;
static _Atomic int next_slot = 0;
static _Atomic int32_t slot_tid[SLOTS];
static _Atomic uint64_t slot_count[SLOTS];
static _Thread_local int my_slot = -1;

static inline void count(void) {
    atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    atomic_store_explicit(&active, 1, memory_order_relaxed);
    int s = my_slot;
    if (s < 0) {
        s = atomic_fetch_add_explicit(&next_slot, 1, memory_order_relaxed);
        if (s >= SLOTS) s = SLOTS - 1;  // overflow slot, shared by late threads
        else atomic_store_explicit(&slot_tid[s], (int32_t)syscall(SYS_gettid), memory_order_relaxed);
        my_slot = s;
    }
    atomic_fetch_add_explicit(&slot_count[s], 1, memory_order_relaxed);
}

void *malloc(size_t n) { count(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { count(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { count(); return __libc_realloc(p, n); }
void free(void *p) { __libc_free(p); }
void *memalign(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
void *aligned_alloc(size_t al, size_t n) { count(); return __libc_memalign(al, n); }
int posix_memalign(void **out, size_t al, size_t n) {
    count();
    void *p = __libc_memalign(al, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
uint64_t alloc_counter_total(void) { return atomic_load_explicit(&counter, memory_order_relaxed); }
int alloc_counter_active(void) { return atomic_load_explicit(&active, memory_order_relaxed); }
uint64_t alloc_counter_thread(int32_t tid) {
    uint64_t sum = 0;
    int n = atomic_load_explicit(&next_slot, memory_order_relaxed);
    if (n > SLOTS - 1) n = SLOTS - 1;
    for (int i = 0; i < n; i++) {
        if (atomic_load_explicit(&slot_tid[i], memory_order_relaxed) == tid)
            sum += atomic_load_explicit(&slot_count[i], memory_order_relaxed);
    }
    return sum;
}
#else
uint64_t alloc_counter_total(void) { return 0; }
int alloc_counter_active(void) { return 0; }
uint64_t alloc_counter_thread(int32_t tid) { (void)tid; return 0; }
#endif
int32_t alloc_counter_gettid(void) {
#if defined(__linux__)
    return (int32_t)syscall(SYS_gettid);
#else
    return 0;
#endif
}
