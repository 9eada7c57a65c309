/* simd.h - SIMD_CLONES marks a hot loop to be compiled twice, for the
 * baseline ISA and for AVX2, with the CPU choosing at load time (an ifunc).
 *
 * Only loops whose results cannot depend on the ISA get it: the build uses
 * -ffp-contract=off and no -ffast-math, so the vector code performs the same
 * IEEE operations in the same order as the scalar code, and every output is
 * bit-identical on every x86-64 machine. */
#ifndef MERGELANG_SIMD_H
#define MERGELANG_SIMD_H

/* GCC only: clang 14 emits the resolver only in translation units that call
 * the function, so callers in other files fail to link. */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define SIMD_CLONES __attribute__((target_clones("avx2", "default")))
/* Also an AVX-512 clone, for loops of 64-bit integer multiplies (the
 * counter-based RNG), which AVX2 lacks. */
#define SIMD_CLONES_WIDE __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define SIMD_CLONES
#define SIMD_CLONES_WIDE
#endif

#endif
