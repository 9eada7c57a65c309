/* rng.c - counter-based random numbers; see rng.h.
 *
 * The exact functions, so that a mask can be reproduced elsewhere (all
 * arithmetic on uint64_t, wrapping; G = 0x9e3779b97f4a7c15):
 *
 *   mix(z):  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
 *            z = (z ^ (z >> 27)) * 0x94d049bb133111eb
 *            return z ^ (z >> 31)          (the splitmix64 finaliser)
 *
 *   rng_stream(seed, name, purpose):
 *            h = 0xcbf29ce484222325
 *            for each byte c of name (no terminator): h = (h ^ c) * 0x100000001b3
 *            return mix(mix(mix(seed ^ G) ^ h) ^ purpose)
 *
 *   rng_bits(s, i) = mix(mix(s + (i + 1) * G) ^ s)
 *   rng_uniform(s, i) = (rng_bits(s, i) >> 11) * 2^-53
 *
 * rng_bits' inner mix is element i of a splitmix64 sequence started at s,
 * which passes BigCrush. The outer mix, keyed by s again, keeps two streams
 * whose keys happen to differ by a multiple of G from sharing values at
 * shifted indices. Every stage of rng_stream is a bijection of the value
 * XORed in, so names with different FNV-1a hashes (or different purposes)
 * always give different streams. */
#include "runtime/core/rng.h"

#define GOLDEN 0x9e3779b97f4a7c15ull


uint64_t rng_stream(uint64_t seed, const char *tensor_name, uint64_t purpose) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)tensor_name; p && *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return rng_mix(rng_mix(rng_mix(seed ^ GOLDEN) ^ h) ^ purpose);
}


