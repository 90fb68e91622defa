/* The Chimera agent ABI, version 1 (docs/agent-abi.md), for agents written in C.
 *
 * An agent defines agent_objectives(), optionally agent_dim(), and agent_evaluate_one(); this
 * header supplies the exports the host calls: the batch entry point evaluates many genomes in
 * one call, reading them from and writing results to the agent's own buffer in linear memory.
 */
#pragma once

#include <stdint.h>

#define CHIMERA_EXPORT(name) __attribute__((export_name(name)))
#define CHIMERA_ABI_VERSION 1
#define CHIMERA_OK 0
#define CHIMERA_BAD_DIMENSION (-1)
#define CHIMERA_BAD_ARGUMENT (-2)

/* Supplied by the agent. */
static int32_t agent_objectives(void);
static int32_t agent_dim(void); /* 0: any genome length */
static void agent_evaluate_one(const double* genome, int32_t dim, double* out);

CHIMERA_EXPORT("chimera_abi_version") int32_t chimera_abi_version(void) {
  return CHIMERA_ABI_VERSION;
}
CHIMERA_EXPORT("chimera_objectives") int32_t chimera_objectives(void) { return agent_objectives(); }
CHIMERA_EXPORT("chimera_dim") int32_t chimera_dim(void) { return agent_dim(); }

/* The buffer starts at the heap's base and grows linear memory on demand, so that an idle
 * agent holds only its initial pages. It owns everything past the heap's base: an agent
 * built on this header must not call malloc (which would take pages from the same place). */
extern unsigned char __heap_base;

/* A region of at least `bytes` bytes for the host to use, or 0 when memory cannot grow that
 * far (the host's memory limit refuses the growth). */
CHIMERA_EXPORT("chimera_buffer") int32_t chimera_buffer(int32_t bytes) {
  if (bytes < 0) return 0;
  const uintptr_t base = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
  const uintptr_t end = base + (uintptr_t)bytes, have = __builtin_wasm_memory_size(0) * 65536u;
  if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535u) / 65536u) == (uintptr_t)-1) {
    return 0;
  }
  return (int32_t)base;
}

/* Genome i is dim doubles at genomes + 8 dim i; its objectives go to out + 8 m i, in order of i,
 * each as soon as it is known (the host finds where a trap struck by the first result left
 * unwritten). */
CHIMERA_EXPORT("chimera_evaluate")
int32_t chimera_evaluate(int32_t genomes, int32_t n, int32_t dim, int32_t out) {
  if (n < 0 || dim < 0) return CHIMERA_BAD_ARGUMENT;
  if (agent_dim() != 0 && dim != agent_dim()) return CHIMERA_BAD_DIMENSION;
  const double* g = (const double*)(uintptr_t)genomes;
  double* o = (double*)(uintptr_t)out;
  const int32_t m = agent_objectives();
  for (int32_t i = 0; i < n; ++i) agent_evaluate_one(g + (int64_t)i * dim, dim, o + (int64_t)i * m);
  return CHIMERA_OK;
}
