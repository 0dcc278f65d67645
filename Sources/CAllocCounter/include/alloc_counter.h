#ifndef ALLOC_COUNTER_H
#define ALLOC_COUNTER_H
#include <stdint.h>
/// Number of heap allocations (malloc, calloc, realloc, aligned variants) made by any thread since process start.
/// Counting is always on and costs one relaxed atomic increment per allocation; `router bench` reads it around
/// the steady-state frame loop to report allocations per frame.
uint64_t alloc_counter_total(void);
/// 1 when this binary's malloc interposer is active (the counter is meaningful), 0 otherwise.
int alloc_counter_active(void);
/// Heap allocations made so far by the thread with kernel id `tid` (0 if unknown or not counting).
uint64_t alloc_counter_thread(int32_t tid);
/// The calling thread's kernel thread id (Linux gettid), 0 elsewhere.
int32_t alloc_counter_gettid(void);
#endif
