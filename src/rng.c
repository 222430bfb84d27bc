/*
 * rng.c: the one random number generator of the library: xoshiro256** (Blackman and
 * Vigna) seeded through splitmix64. Normals by the polar Box-Muller method, Poisson by
 * inversion for small means and Hormann's PTRS transformed rejection for large ones.
 * Everything is integer arithmetic plus IEEE double, so a seed gives the same stream on
 * every platform and whatever the thread count (threads draw from sdd_rng_split streams).
 */
#include "sdd_internal.h"
#include <math.h>
#include <pthread.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void sdd_rng_seed(sdd_rng_t *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    r->has_spare = 0;
    r->spare = 0;
}

void sdd_rng_split(const sdd_rng_t *r, uint64_t stream, sdd_rng_t *out)
{
    uint64_t x = r->s[0] ^ rotl(r->s[1], 17) ^ rotl(r->s[2], 31) ^ rotl(r->s[3], 47);
    uint64_t st = stream;
    x ^= splitmix64(&st);
    sdd_rng_seed(out, x);
}

uint64_t sdd_rng_u64(sdd_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double sdd_rng_uniform(sdd_rng_t *r)
{
    return (sdd_rng_u64(r) >> 11) * 0x1.0p-53;
}

double sdd_rng_normal(sdd_rng_t *r)
{
    double u, v, s;
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    do {
        u = 2.0 * sdd_rng_uniform(r) - 1.0;
        v = 2.0 * sdd_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    s = sqrt(-2.0 * log(s) / s);
    r->spare = v * s;
    r->has_spare = 1;
    return u * s;
}

/* Ziggurat of 128 layers for the standard normal (Marsaglia and Tsang 2000, "The Ziggurat
 * Method for Generating Random Variables", RNOR): R is the start of the tail, V the area
 * of each layer. Tables are built once, in double. A draw takes one 64-bit word: its high
 * 32 bits, signed, are the candidate, its low 7 bits the layer (so they do not overlap). */
#define ZIG_R 3.442619855899
#define ZIG_V 9.91256303526217e-3
static uint32_t zig_k[128];
static double zig_w[128], zig_f[128];
static pthread_once_t zig_once = PTHREAD_ONCE_INIT;

static void zig_init(void)
{
    double m1 = 2147483648.0, dn = ZIG_R, tn = dn, q = ZIG_V / exp(-0.5 * dn * dn);
    zig_k[0] = (uint32_t)(dn / q * m1);
    zig_k[1] = 0;
    zig_w[0] = q / m1;
    zig_w[127] = dn / m1;
    zig_f[0] = 1.0;
    zig_f[127] = exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; i--) {
        dn = sqrt(-2.0 * log(ZIG_V / dn + exp(-0.5 * dn * dn)));
        zig_k[i + 1] = (uint32_t)(dn / tn * m1);
        tn = dn;
        zig_f[i] = exp(-0.5 * dn * dn);
        zig_w[i] = dn / m1;
    }
}

static inline uint32_t mag32(int32_t h) { return h < 0 ? 0u - (uint32_t)h : (uint32_t)h; }

/* the rejection steps: the wedge of layer i, or the tail beyond R (layer 0) */
static double zig_slow(sdd_rng_t *r, int32_t h, int i)
{
    for (;;) {
        double x = h * zig_w[i];
        if (i == 0) {
            double y;
            do {
                x = -log(1.0 - sdd_rng_uniform(r)) / ZIG_R;
                y = -log(1.0 - sdd_rng_uniform(r));
            } while (y + y < x * x);
            return h > 0 ? ZIG_R + x : -ZIG_R - x;
        }
        if (zig_f[i] + sdd_rng_uniform(r) * (zig_f[i - 1] - zig_f[i]) < exp(-0.5 * x * x)) return x;
        uint64_t u = sdd_rng_u64(r);
        h = (int32_t)(uint32_t)(u >> 32);
        i = (int)(u & 127);
        if (mag32(h) < zig_k[i]) return h * zig_w[i];
    }
}

void sdd_rng_normals(sdd_rng_t *r, float *out, int64_t n)
{
    pthread_once(&zig_once, zig_init);
    for (int64_t k = 0; k < n; k++) {
        uint64_t u = sdd_rng_u64(r);
        int32_t h = (int32_t)(uint32_t)(u >> 32);
        int i = (int)(u & 127);
        out[k] = (float)(mag32(h) < zig_k[i] ? h * zig_w[i] : zig_slow(r, h, i));
    }
}

uint64_t sdd_rng_below(sdd_rng_t *r, uint64_t n)
{
    uint64_t x, lim;
    if (n <= 1) return 0;
    lim = UINT64_MAX - UINT64_MAX % n;
    do x = sdd_rng_u64(r); while (x >= lim);
    return x % n;
}

void sdd_rng_shuffle(sdd_rng_t *r, int64_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)sdd_rng_below(r, (uint64_t)i + 1);
        int64_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}

/* Hormann (1993), "The transformed rejection method for generating Poisson random
 * variables", algorithm PTRS; valid for lambda >= 10. */
static int64_t poisson_ptrs(sdd_rng_t *r, double lam)
{
    double slam = sqrt(lam), loglam = log(lam);
    double b = 0.931 + 2.53 * slam, a = -0.059 + 0.02483 * b;
    double invalpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
    for (;;) {
        double u = sdd_rng_uniform(r) - 0.5, v = sdd_rng_uniform(r);
        double us = 0.5 - fabs(u);
        double k = floor((2 * a / us + b) * u + lam + 0.43);
        if (us >= 0.07 && v <= vr) return (int64_t)k;
        if (k < 0 || (us < 0.013 && v > us)) continue;
        if (log(v) + log(invalpha) - log(a / (us * us) + b) <= -lam + k * loglam - lgamma(k + 1))
            return (int64_t)k;
    }
}

int64_t sdd_rng_poisson(sdd_rng_t *r, double lambda)
{
    if (!(lambda > 0)) return 0;
    if (lambda >= 10) return poisson_ptrs(r, lambda);
    double L = exp(-lambda), p = 1.0;
    int64_t k = 0;
    do {
        k++;
        p *= sdd_rng_uniform(r);
    } while (p > L);
    return k - 1;
}
