/*
 * vec.h: the network's element-wise kernels (vec.c), one pass over each array, with an
 * AVX2+FMA version chosen at run time by CPU feature detection and a portable version
 * for every other CPU. Each kernel works on whole rows or on a flat range, so a caller
 * cuts work into shape-fixed pieces and shares them out with sdd_parallel_for.
 */
#ifndef SDD_VEC_H
#define SDD_VEC_H

#include <stddef.h>
#include <stdint.h>

/* x86-64 with GCC or clang: the vector kernels (target attributes, <immintrin.h>) exist */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SDD_X86 1
#endif

/* CPU features, detected once (CPUID and the OS's saved register state, XGETBV). */
int sdd_cpu_avx2(void);   /* AVX2 and FMA usable */
int sdd_cpu_bf16(void);   /* AVX512F/BW/VL and AVX512_BF16 usable */
int sdd_cpu_vnni(void);   /* AVX512F/BW/VL and AVX512_VNNI usable */
/* Force the portable kernels (tests compare the two; 0 = detect again). */
void sdd_vec_force_portable(int on);

/* y [n] = SiLU(x) = x sigmoid(x); y == x allowed. */
void sdd_vec_silu(float *y, const float *x, size_t n);
/* dx [n] = dy SiLU'(x); dx == dy allowed. */
void sdd_vec_silu_bwd(float *dx, const float *dy, const float *x, size_t n);

/* One row of LayerNorm + affine + SiLU (statistics in double):
 *   p = pre + b + e (b, e may be NULL), xhat = (p - mean) rstd, y = g xhat + beta,
 *   h = SiLU(y) + skip (skip may be NULL). Returns rstd. y may alias pre. */
float sdd_vec_lnsilu_row(float *h, float *y, float *xhat, const float *pre, const float *b,
                         const float *e, const float *g, const float *beta, const float *skip, int O);
/* Backward of one row: dy = dh SiLU'(y); dg += dy xhat; dbeta += dy; dp = rstd (dy g -
 * mean(dy g) - xhat mean(dy g xhat)) (means in double); dbias += dp (NULL: skipped).
 * dp may alias dh. */
void sdd_vec_lnsilu_bwd_row(float *dp, float *dg, float *dbeta, float *dbias, const float *dh,
                            const float *y, const float *xhat, float rstd, const float *g, int O);

/* sum of g[i]^2 in double, accumulated in 16 lanes added in order (bits fixed by n). */
double sdd_vec_sumsq(const float *g, int64_t n);
/* Adam with gradient scale gs, then the EMA when ema is not NULL (IEEE operations in a
 * fixed order: both versions give the same bits):
 *   gi = g gs; m = b1 m + c1 gi; v = b2 v + c2 gi gi; p -= ss m / (sqrt(v) / sbc2 + eps);
 *   ema = d ema + cd p; and g = 0 when zero_g (the zeroing rides on the pass). */
typedef struct {
    float step_size, sbc2, b1, b2, c1, c2, eps, d, cd;
} sdd_adam_c_t;
void sdd_vec_adam(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, float gs,
                  const sdd_adam_c_t *u, int zero_g);

/* Bit logits to bits, in place: o = bs tanh((clamp(k x, -60, 60) + o) / 2) over [n]
 * (tanh(u/2) = 1 - 2 / (1 + exp(u)); float, absolute error ~1e-7). */
void sdd_vec_bitlogit(float *o, const float *x, size_t n, float k, float bs);
/* Bits through logits, the loss of one row's bit half: L = clamp(k y, -60, 60) + o and
 * on = bit > 0 over [n]; returns sum -log sigmoid(on ? L : -L) in double (float terms,
 * relative error ~3e-7), and writes d = ds (sigmoid(L) - on) unless d is NULL (d may
 * alias o). */
double sdd_vec_bitbce(float *d, const float *o, const float *y, const float *bit, size_t n, float k, float ds);
/* The sampler's element-wise steps; both versions give the same bits (IEEE operations in
 * the same order, no FMA):
 *   ddim:    x = a x0 + b eps + 0, eps = (float)((x - sn x0) / s1n) in double (x in place)
 *   affine2: y = a x + b f + c
 *   clamp:   x = min(lim, max(-lim, x)), a NaN left as it is */
void sdd_vec_ddim(float *x, const float *x0, size_t n, double sn, double s1n, float a, float b);
void sdd_vec_affine2(float *y, const float *x, const float *f, size_t n, float a, float b, float c);
void sdd_vec_clamp(float *x, size_t n, float lim);
/* out [n] = a + b */
void sdd_vec_add(float *out, const float *a, const float *b, size_t n);

#endif
