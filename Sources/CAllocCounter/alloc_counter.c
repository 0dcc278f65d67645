// Interposes the glibc allocator inside the `router` executable to count heap allocations.
// Definitions in the main executable take precedence over libc's; each forwards to glibc's __libc_* entry points.
#define _GNU_SOURCE
#include "alloc_counter.h"
#include <stddef.h>
#include <stdatomic.h>
#include <errno.h>

#if defined(__linux__) && defined(__GLIBC__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static _Atomic uint64_t counter = 0;
static _Atomic int active = 0;

static inline void count(void) {
    atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
    atomic_store_explicit(&active, 1, memory_order_relaxed);
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
#else
uint64_t alloc_counter_total(void) { return 0; }
int alloc_counter_active(void) { return 0; }
#endif
