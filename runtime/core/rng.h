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
/* The splitmix64 finaliser. Inline, with rng_bits, so that loops drawing
 * one number per element (DARE, DELLA) compile to straight-line code. */
static inline uint64_t rng_mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* 64 random bits for element `index` of the stream. */
static inline uint64_t rng_bits(uint64_t stream, uint64_t index) {
    return rng_mix(rng_mix(stream + (index + 1) * 0x9e3779b97f4a7c15ull) ^ stream);
}

/* A double uniform in [0, 1) for element `index` (53 random bits). */
static inline double rng_uniform(uint64_t stream, uint64_t index) {
    return (double)(rng_bits(stream, index) >> 11) * 0x1p-53;
}

#endif
