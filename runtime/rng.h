/* rng.h - counter-based random numbers for the random merge methods.
 *
 * A random draw is a pure function of (seed, tensor name, element index):
 * no state advances, so the output is bit-identical whatever the thread
 * count, the order tensors are visited in, or how a tensor is split between
 * threads. */
#ifndef MERGELANG_RNG_H
#define MERGELANG_RNG_H

#include <stdint.h>

/* The stream of one (seed, tensor name, purpose) triple. `purpose`
 * separates independent uses within one tensor (e.g. model index i of a
 * DARE merge), so two models never share a mask. */
uint64_t rng_stream(uint64_t seed, const char *tensor_name, uint64_t purpose);
/* 64 random bits for element `index` of the stream. */
uint64_t rng_bits(uint64_t stream, uint64_t index);
/* A double uniform in [0, 1) for element `index` (53 random bits). */
double rng_uniform(uint64_t stream, uint64_t index);

#endif
