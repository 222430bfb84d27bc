/*
 * vec.c: element-wise kernels of the network and the optimiser (SiLU, LayerNorm + SiLU
 * forward and backward, Adam + EMA, the gradient norm), each one pass over its arrays.
 *
 *   SiLU(x) = x s,  s = 1 / (1 + exp(-x));   SiLU'(x) = s (1 + x (1 - s))
 *   LN:  p = pre + b + e; mean, var over the row in double; rstd = 1/sqrt(var + 1e-5);
 *        xhat = (p - mean) rstd; y = g xhat + beta; h = SiLU(y) (+ skip)
 *   LN backward: dy = dh SiLU'(y); dz = dy g; dp = rstd (dz - mean(dz) - xhat mean(dz xhat))
 *
 * Two versions of each: AVX2+FMA (8 floats a vector, exp by a Cephes polynomial) and a
 * portable one (libm expf). The version is chosen once per process from CPUID, so a
 * given machine always runs the same code and results do not depend on the thread
 * count. Reductions run in double in a fixed lane order. The optimiser kernels use
 * only IEEE-exact operations (no FMA, no approximations) in the same order in both
 * versions, so their bits are the same on every x86-64 CPU.
 */
#include "vec.h"
#include <math.h>
#include <pthread.h>
#include <string.h>

#define LN_EPS 1e-5

/* ------------------------------------------------------------ CPU features */

#ifdef SDD_X86
#include <cpuid.h>
#include <immintrin.h>

/* The same bits however the library is built: a product and a sum are never contracted
 * into an FMA unless the code asks for one (GCC contracts in its GNU language modes, the
 * default of R's package builds; the tree builds with -std=c11, where it does not). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif
#endif

static int cpu_avx2, cpu_bf16, cpu_vnni, force_portable;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void cpu_detect(void)
{
#ifdef SDD_X86
    unsigned a, b, c, d, xlo = 0, xhi = 0;
    int osxsave, ymm_ok, zmm_ok;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    osxsave = (c >> 27) & 1;
    if (osxsave) __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
    ymm_ok = osxsave && (xlo & 6) == 6;               /* SSE and AVX state */
    zmm_ok = ymm_ok && (xlo & 0xe0) == 0xe0;          /* opmask, ZMM0-15 high, ZMM16-31 */
    int fma = (c >> 12) & 1, avx = (c >> 28) & 1;
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    int avx2 = (b >> 5) & 1, f512 = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    int vnni = (c >> 11) & 1;
    __cpuid_count(7, 1, a, b, c, d);
    int bf16 = (a >> 5) & 1;
    cpu_avx2 = ymm_ok && avx && avx2 && fma;
    cpu_bf16 = cpu_avx2 && zmm_ok && f512 && bw && vl && bf16;
    cpu_vnni = cpu_avx2 && zmm_ok && f512 && bw && vl && vnni;
#endif
}

int sdd_cpu_avx2(void)
{
    pthread_once(&cpu_once, cpu_detect);
    return cpu_avx2 && !force_portable;
}

int sdd_cpu_bf16(void)
{
    pthread_once(&cpu_once, cpu_detect);
    return cpu_bf16;
}

int sdd_cpu_vnni(void)
{
    pthread_once(&cpu_once, cpu_detect);
    return cpu_vnni;
}

void sdd_vec_force_portable(int on) { force_portable = on; }

/* ------------------------------------------------------------ portable versions */

static inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

static void bitlogit_c(float *o, const float *x, size_t n, float k, float bs)
{
    for (size_t i = 0; i < n; i++) {
        float l = k * x[i];
        l = l > 60.0f ? 60.0f : l < -60.0f ? -60.0f : l;
        o[i] = bs * (1.0f - 2.0f / (1.0f + expf(l + o[i])));
    }
}

/* -log sigmoid(+-L) = log1p(exp(-|L|)) + max(-+L, 0); sigmoid(L) = (L >= 0 ? 1 : e) / (1 + e) */
static double bitbce_c(float *d, const float *o, const float *y, const float *bit, size_t n, float k, float ds)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        float l = k * y[i], on = bit[i] > 0 ? 1.0f : 0.0f;
        l = (l > 60.0f ? 60.0f : l < -60.0f ? -60.0f : l) + o[i];
        float e = expf(-fabsf(l)), m = on > 0 ? -l : l;
        s += (double)(log1pf(e) + (m > 0 ? m : 0.0f));
        if (d) d[i] = ds * ((l >= 0 ? 1.0f : e) / (1.0f + e) - on);
    }
    return s;
}

static void ddim_c(float *x, const float *x0, size_t n, double sn, double s1n, float a, float b)
{
    for (size_t i = 0; i < n; i++) {
        float eps = (float)((x[i] - sn * x0[i]) / s1n);
        x[i] = a * x0[i] + b * eps + 0.0f;
    }
}

static void affine2_c(float *y, const float *x, const float *f, size_t n, float a, float b, float c)
{
    for (size_t i = 0; i < n; i++) y[i] = a * x[i] + b * f[i] + c;
}

static void clamp_c(float *x, size_t n, float lim)
{
    for (size_t i = 0; i < n; i++) x[i] = x[i] > lim ? lim : x[i] < -lim ? -lim : x[i];
}

static void silu_c(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) y[i] = x[i] * sigm(x[i]);
}

static void silu_bwd_c(float *dx, const float *dy, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float s = sigm(x[i]);
        dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

static float lnsilu_row_c(float *h, float *y, float *xhat, const float *pre, const float *b,
                          const float *e, const float *g, const float *beta, const float *skip, int O)
{
    double mean = 0, var = 0, rs;
    for (int j = 0; j < O; j++) {
        y[j] = pre[j] + (b ? b[j] : 0.0f) + (e ? e[j] : 0.0f);
        mean += y[j];
    }
    mean /= O;
    for (int j = 0; j < O; j++) var += (y[j] - mean) * (y[j] - mean);
    rs = 1.0 / sqrt(var / O + LN_EPS);
    for (int j = 0; j < O; j++) {
        xhat[j] = (float)((y[j] - mean) * rs);
        y[j] = g[j] * xhat[j] + beta[j];
        h[j] = y[j] * sigm(y[j]) + (skip ? skip[j] : 0.0f);
    }
    return (float)rs;
}

static void lnsilu_bwd_row_c(float *dp, float *dg, float *dbeta, float *dbias, const float *dh,
                             const float *y, const float *xhat, float rstd, const float *g, int O)
{
    double s1 = 0, s2 = 0;
    float m1, m2;
    for (int j = 0; j < O; j++) {
        float s = sigm(y[j]);
        float dy = dh[j] * s * (1.0f + y[j] * (1.0f - s));
        dg[j] += dy * xhat[j];
        dbeta[j] += dy;
        dp[j] = dy * g[j];
        s1 += dp[j];
        s2 += (double)dp[j] * xhat[j];
    }
    m1 = (float)(s1 / O);
    m2 = (float)(s2 / O);
    for (int j = 0; j < O; j++) {
        dp[j] = rstd * (dp[j] - m1 - xhat[j] * m2);
        if (dbias) dbias[j] += dp[j];
    }
}

#define VB 16 /* lanes of the norm's double accumulator */

static double sumsq_c(const float *g, int64_t n)
{
    double acc[VB] = {0}, s = 0;
    int64_t i = 0;
    for (; i + VB <= n; i += VB)
        for (int k = 0; k < VB; k++) acc[k] += (double)g[i + k] * g[i + k];
    for (int k = 0; k < VB; k++) s += acc[k];
    for (; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

static inline void adam1(float *p, float *g, float *mo, float *ve, float *ema, float gs,
                         const sdd_adam_c_t *u, int64_t i, int zero_g)
{
    float gi = g[i] * gs;
    if (zero_g) g[i] = 0.0f;
    mo[i] = u->b1 * mo[i] + u->c1 * gi;
    ve[i] = u->b2 * ve[i] + u->c2 * gi * gi;
    p[i] -= u->step_size * mo[i] / (sqrtf(ve[i]) / u->sbc2 + u->eps);
    if (ema) ema[i] = u->d * ema[i] + u->cd * p[i];
}

/* ------------------------------------------------------------ AVX2 + FMA versions */

#ifdef SDD_X86
#define AVX2 __attribute__((target("avx2,fma")))

/* exp(x) for x in [-87.3, 88.3] (clamped), Cephes expf: relative error ~1e-7. */
AVX2 static inline __m256 exp8(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 q = _mm256_set1_ps(1.9875691500e-4f);
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(1.3981999507e-3f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(8.3334519073e-3f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(4.1665795894e-2f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(1.6666665459e-1f));
    q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(5.0000001201e-1f));
    q = _mm256_fmadd_ps(q, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(q, _mm256_castsi256_ps(e));
}

AVX2 static inline __m256 sigm8(__m256 x)
{
    __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

/* the tail of a row: lanes [0, n) of a vector, zeros beyond */
AVX2 static inline __m256i tail_mask(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static inline __m256 load_n(const float *p, int n, __m256i m)
{
    return n == 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

AVX2 static inline void store_n(float *p, __m256 v, int n, __m256i m)
{
    if (n == 8) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}

/* a double accumulator of 4 + 4 lanes */
AVX2 static inline void acc8(__m256d *lo, __m256d *hi, __m256 v)
{
    *lo = _mm256_add_pd(*lo, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    *hi = _mm256_add_pd(*hi, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
}

AVX2 static inline void accsq8(__m256d *lo, __m256d *hi, __m256 v)
{
    __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(v)), b = _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1));
    *lo = _mm256_fmadd_pd(a, a, *lo);
    *hi = _mm256_fmadd_pd(b, b, *hi);
}

AVX2 static inline double hsum(__m256d lo, __m256d hi)
{
    double a[8];
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

AVX2 static void silu_v(float *y, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        int k = n - i < 8 ? (int)(n - i) : 8;
        __m256i m = tail_mask(k);
        __m256 v = load_n(x + i, k, m);
        store_n(y + i, _mm256_mul_ps(v, sigm8(v)), k, m);
    }
}

AVX2 static void silu_bwd_v(float *dx, const float *dy, const float *x, size_t n)
{
    __m256 one = _mm256_set1_ps(1.0f);
    for (size_t i = 0; i < n; i += 8) {
        int k = n - i < 8 ? (int)(n - i) : 8;
        __m256i m = tail_mask(k);
        __m256 v = load_n(x + i, k, m), s = sigm8(v);
        __m256 d = _mm256_mul_ps(s, _mm256_fmadd_ps(v, _mm256_sub_ps(one, s), one));
        store_n(dx + i, _mm256_mul_ps(load_n(dy + i, k, m), d), k, m);
    }
}

AVX2 static float lnsilu_row_v(float *h, float *y, float *xhat, const float *pre, const float *b,
                               const float *e, const float *g, const float *beta, const float *skip, int O)
{
    __m256d slo = _mm256_setzero_pd(), shi = slo, vlo = slo, vhi = slo;
    __m256 z = _mm256_setzero_ps();
    double mean, rs;
    for (int j = 0; j < O; j += 8) {
        int k = O - j < 8 ? O - j : 8;
        __m256i m = tail_mask(k);
        __m256 p = _mm256_add_ps(load_n(pre + j, k, m), b ? load_n(b + j, k, m) : z);
        p = _mm256_add_ps(p, e ? load_n(e + j, k, m) : z);
        store_n(y + j, p, k, m);
        acc8(&slo, &shi, p);
    }
    mean = hsum(slo, shi) / O;
    __m256d mu = _mm256_set1_pd(mean);
    for (int j = 0; j < O; j += 8) {
        int k = O - j < 8 ? O - j : 8;
        __m256i m = tail_mask(k);
        __m256 p = load_n(y + j, k, m);
        __m256d a = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(p)), mu);
        __m256d c = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)), mu);
        if (k < 8) { /* lanes past the row hold zeros: keep them out of the sum */
            double t[8];
            _mm256_storeu_pd(t, a);
            _mm256_storeu_pd(t + 4, c);
            for (int q = k; q < 8; q++) t[q] = 0;
            a = _mm256_loadu_pd(t);
            c = _mm256_loadu_pd(t + 4);
        }
        vlo = _mm256_fmadd_pd(a, a, vlo);
        vhi = _mm256_fmadd_pd(c, c, vhi);
    }
    rs = 1.0 / sqrt(hsum(vlo, vhi) / O + LN_EPS);
    __m256d rsd = _mm256_set1_pd(rs);
    for (int j = 0; j < O; j += 8) {
        int k = O - j < 8 ? O - j : 8;
        __m256i m = tail_mask(k);
        __m256 p = load_n(y + j, k, m);
        __m256d a = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(p)), mu), rsd);
        __m256d c = _mm256_mul_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(p, 1)), mu), rsd);
        __m256 xh = _mm256_set_m128(_mm256_cvtpd_ps(c), _mm256_cvtpd_ps(a));
        __m256 yy = _mm256_fmadd_ps(load_n(g + j, k, m), xh, load_n(beta + j, k, m));
        __m256 hh = _mm256_mul_ps(yy, sigm8(yy));
        if (skip) hh = _mm256_add_ps(hh, load_n(skip + j, k, m));
        store_n(xhat + j, xh, k, m);
        store_n(y + j, yy, k, m);
        store_n(h + j, hh, k, m);
    }
    return (float)rs;
}

AVX2 static void lnsilu_bwd_row_v(float *dp, float *dg, float *dbeta, float *dbias, const float *dh,
                                  const float *y, const float *xhat, float rstd, const float *g, int O)
{
    __m256d s1lo = _mm256_setzero_pd(), s1hi = s1lo, s2lo = s1lo, s2hi = s1lo;
    __m256 one = _mm256_set1_ps(1.0f);
    for (int j = 0; j < O; j += 8) {
        int k = O - j < 8 ? O - j : 8;
        __m256i m = tail_mask(k);
        __m256 yy = load_n(y + j, k, m), s = sigm8(yy), xh = load_n(xhat + j, k, m);
        __m256 dy = _mm256_mul_ps(load_n(dh + j, k, m),
                                  _mm256_mul_ps(s, _mm256_fmadd_ps(yy, _mm256_sub_ps(one, s), one)));
        store_n(dg + j, _mm256_fmadd_ps(dy, xh, load_n(dg + j, k, m)), k, m);
        store_n(dbeta + j, _mm256_add_ps(dy, load_n(dbeta + j, k, m)), k, m);
        __m256 dz = _mm256_mul_ps(dy, load_n(g + j, k, m)); /* zero past the row */
        store_n(dp + j, dz, k, m);
        acc8(&s1lo, &s1hi, dz);
        __m256d a = _mm256_cvtps_pd(_mm256_castps256_ps128(dz)), c = _mm256_cvtps_pd(_mm256_extractf128_ps(dz, 1));
        s2lo = _mm256_fmadd_pd(a, _mm256_cvtps_pd(_mm256_castps256_ps128(xh)), s2lo);
        s2hi = _mm256_fmadd_pd(c, _mm256_cvtps_pd(_mm256_extractf128_ps(xh, 1)), s2hi);
    }
    __m256 m1 = _mm256_set1_ps((float)(hsum(s1lo, s1hi) / O)), m2 = _mm256_set1_ps((float)(hsum(s2lo, s2hi) / O));
    __m256 rv = _mm256_set1_ps(rstd);
    for (int j = 0; j < O; j += 8) {
        int k = O - j < 8 ? O - j : 8;
        __m256i m = tail_mask(k);
        __m256 d = _mm256_sub_ps(load_n(dp + j, k, m), m1);
        d = _mm256_mul_ps(rv, _mm256_fnmadd_ps(load_n(xhat + j, k, m), m2, d));
        store_n(dp + j, d, k, m);
        if (dbias) store_n(dbias + j, _mm256_add_ps(d, load_n(dbias + j, k, m)), k, m);
    }
}

AVX2 static double sumsq_v(const float *g, int64_t n)
{
    __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
    double acc[VB], s = 0;
    int64_t i = 0;
    for (; i + VB <= n; i += VB) {
        accsq8(&a0, &a1, _mm256_loadu_ps(g + i));
        accsq8(&a2, &a3, _mm256_loadu_ps(g + i + 8));
    }
    _mm256_storeu_pd(acc, a0);
    _mm256_storeu_pd(acc + 4, a1);
    _mm256_storeu_pd(acc + 8, a2);
    _mm256_storeu_pd(acc + 12, a3);
    for (int k = 0; k < VB; k++) s += acc[k];
    for (; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

AVX2 static void adam_v(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, float gs,
                        const sdd_adam_c_t *u, int zero_g)
{
    __m256 vgs = _mm256_set1_ps(gs), b1 = _mm256_set1_ps(u->b1), c1 = _mm256_set1_ps(u->c1);
    __m256 b2 = _mm256_set1_ps(u->b2), c2 = _mm256_set1_ps(u->c2), ss = _mm256_set1_ps(u->step_size);
    __m256 sbc2 = _mm256_set1_ps(u->sbc2), eps = _mm256_set1_ps(u->eps);
    __m256 d = _mm256_set1_ps(u->d), cd = _mm256_set1_ps(u->cd);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), vgs);
        if (zero_g) _mm256_storeu_ps(g + i, _mm256_setzero_ps());
        __m256 m = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(mo + i)), _mm256_mul_ps(c1, gi));
        __m256 v = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(ve + i)),
                                 _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(v), sbc2), eps);
        __m256 pp = _mm256_sub_ps(_mm256_loadu_ps(p + i), _mm256_div_ps(_mm256_mul_ps(ss, m), den));
        _mm256_storeu_ps(mo + i, m);
        _mm256_storeu_ps(ve + i, v);
        _mm256_storeu_ps(p + i, pp);
        if (ema)
            _mm256_storeu_ps(ema + i, _mm256_add_ps(_mm256_mul_ps(d, _mm256_loadu_ps(ema + i)), _mm256_mul_ps(cd, pp)));
    }
    for (; i < n; i++) adam1(p, g, mo, ve, ema, gs, u, i, zero_g);
}

AVX2 static void bitlogit_v(float *o, const float *x, size_t n, float k, float bs)
{
    __m256 kk = _mm256_set1_ps(k), b = _mm256_set1_ps(bs), one = _mm256_set1_ps(1.0f), two = _mm256_set1_ps(2.0f);
    __m256 hi = _mm256_set1_ps(60.0f), lo = _mm256_set1_ps(-60.0f);
    for (size_t i = 0; i < n; i += 8) {
        int c = n - i < 8 ? (int)(n - i) : 8;
        __m256i m = tail_mask(c);
        __m256 l = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(kk, load_n(x + i, c, m)), lo), hi);
        __m256 e = exp8(_mm256_add_ps(l, load_n(o + i, c, m)));
        store_n(o + i, _mm256_mul_ps(b, _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(one, e)))), c, m);
    }
}

/* log1p(e) for e in [0, 1] (Cephes logf polynomial on the mantissa of u = 1 + e, plus the
 * rounding error of u over u): relative error ~2e-7. */
AVX2 static inline __m256 log1p8(__m256 e)
{
    __m256 one = _mm256_set1_ps(1.0f), u = _mm256_add_ps(one, e);
    __m256 c = _mm256_sub_ps(e, _mm256_sub_ps(u, one)); /* exact: what u lost of e */
    __m256 big = _mm256_cmp_ps(u, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    __m256 x = _mm256_blendv_ps(u, _mm256_mul_ps(u, _mm256_set1_ps(0.5f)), big);
    __m256 n = _mm256_and_ps(big, one);
    __m256 f = _mm256_sub_ps(x, one), z = _mm256_mul_ps(f, f);
    __m256 q = _mm256_set1_ps(7.0376836292e-2f);
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(-1.1514610310e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(1.1676998740e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(-1.2420140846e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(1.4249322787e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(-1.6668057665e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(2.0000714765e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(-2.4999993993e-1f));
    q = _mm256_fmadd_ps(q, f, _mm256_set1_ps(3.3333331174e-1f));
    __m256 r = _mm256_mul_ps(_mm256_mul_ps(q, f), z);
    r = _mm256_fmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    r = _mm256_fnmadd_ps(_mm256_set1_ps(0.5f), z, r);
    r = _mm256_add_ps(_mm256_add_ps(f, r), _mm256_div_ps(c, u));
    return _mm256_fmadd_ps(n, _mm256_set1_ps(0.693359375f), r);
}

AVX2 static double bitbce_v(float *d, const float *o, const float *y, const float *bit, size_t n, float k, float ds)
{
    __m256 kk = _mm256_set1_ps(k), vds = _mm256_set1_ps(ds), one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    __m256 hi = _mm256_set1_ps(60.0f), lo = _mm256_set1_ps(-60.0f);
    __m256 sign = _mm256_set1_ps(-0.0f);
    __m256d a0 = _mm256_setzero_pd(), a1 = a0;
    for (size_t i = 0; i < n; i += 8) {
        int c = n - i < 8 ? (int)(n - i) : 8;
        __m256i m = tail_mask(c);
        __m256 l = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(kk, load_n(y + i, c, m)), lo), hi);
        l = _mm256_add_ps(l, load_n(o + i, c, m));
        __m256 on = _mm256_and_ps(_mm256_cmp_ps(load_n(bit + i, c, m), zero, _CMP_GT_OQ), one);
        __m256 e = exp8(_mm256_or_ps(_mm256_andnot_ps(sign, l), sign)); /* exp(-|L|) */
        __m256 mm = _mm256_blendv_ps(l, _mm256_xor_ps(l, sign), _mm256_cmp_ps(on, zero, _CMP_GT_OQ));
        __m256 nll = _mm256_add_ps(log1p8(e), _mm256_max_ps(mm, zero));
        acc8(&a0, &a1, _mm256_and_ps(nll, _mm256_castsi256_ps(m)));
        if (d) {
            __m256 num = _mm256_blendv_ps(e, one, _mm256_cmp_ps(l, zero, _CMP_GE_OQ));
            store_n(d + i, _mm256_mul_ps(vds, _mm256_sub_ps(_mm256_div_ps(num, _mm256_add_ps(one, e)), on)), c, m);
        }
    }
    return hsum(a0, a1);
}

/* The same IEEE operations as ddim_c, lane by lane (the division in double). */
AVX2 static void ddim_v(float *x, const float *x0, size_t n, double sn, double s1n, float a, float b)
{
    __m256d vsn = _mm256_set1_pd(sn), vs1n = _mm256_set1_pd(s1n);
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), z = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 xv = _mm256_loadu_ps(x + i), x0v = _mm256_loadu_ps(x0 + i);
        __m256d lo = _mm256_div_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(xv)),
                                                 _mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(x0v)), vsn)),
                                   vs1n);
        __m256d hi = _mm256_div_pd(_mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(xv, 1)),
                                                 _mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(x0v, 1)), vsn)),
                                   vs1n);
        __m256 eps = _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
        _mm256_storeu_ps(x + i, _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(va, x0v), _mm256_mul_ps(vb, eps)), z));
    }
    ddim_c(x + i, x0 + i, n - i, sn, s1n, a, b);
}

AVX2 static void affine2_v(float *y, const float *x, const float *f, size_t n, float a, float b, float c)
{
    __m256 va = _mm256_set1_ps(a), vb = _mm256_set1_ps(b), vc = _mm256_set1_ps(c);
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_add_ps(_mm256_add_ps(_mm256_mul_ps(va, _mm256_loadu_ps(x + i)),
                                                            _mm256_mul_ps(vb, _mm256_loadu_ps(f + i))),
                                              vc));
    affine2_c(y + i, x + i, f + i, n - i, a, b, c);
}

/* min(lim, x) and max(-lim, .) keep a NaN as the comparisons of clamp_c do */
AVX2 static void clamp_v(float *x, size_t n, float lim)
{
    __m256 hi = _mm256_set1_ps(lim), lo = _mm256_set1_ps(-lim);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_max_ps(lo, _mm256_min_ps(hi, _mm256_loadu_ps(x + i))));
    clamp_c(x + i, n - i, lim);
}

AVX2 static void add_v(float *out, const float *a, const float *b, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; i++) out[i] = a[i] + b[i];
}
#endif /* SDD_X86 */

/* ------------------------------------------------------------ dispatch */

#ifdef SDD_X86
#define PICK(v, c) (sdd_cpu_avx2() ? (v) : (c))
#else
#define PICK(v, c) (c)
#endif

void sdd_vec_silu(float *y, const float *x, size_t n) { PICK(silu_v, silu_c)(y, x, n); }

void sdd_vec_silu_bwd(float *dx, const float *dy, const float *x, size_t n)
{
    PICK(silu_bwd_v, silu_bwd_c)(dx, dy, x, n);
}

float sdd_vec_lnsilu_row(float *h, float *y, float *xhat, const float *pre, const float *b,
                         const float *e, const float *g, const float *beta, const float *skip, int O)
{
    return PICK(lnsilu_row_v, lnsilu_row_c)(h, y, xhat, pre, b, e, g, beta, skip, O);
}

void sdd_vec_lnsilu_bwd_row(float *dp, float *dg, float *dbeta, float *dbias, const float *dh,
                            const float *y, const float *xhat, float rstd, const float *g, int O)
{
    PICK(lnsilu_bwd_row_v, lnsilu_bwd_row_c)(dp, dg, dbeta, dbias, dh, y, xhat, rstd, g, O);
}

double sdd_vec_sumsq(const float *g, int64_t n) { return PICK(sumsq_v, sumsq_c)(g, n); }

static void adam_c(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, float gs,
                   const sdd_adam_c_t *u, int zero_g)
{
    for (int64_t i = 0; i < n; i++) adam1(p, g, mo, ve, ema, gs, u, i, zero_g);
}

void sdd_vec_adam(float *p, float *g, float *mo, float *ve, float *ema, int64_t n, float gs,
                  const sdd_adam_c_t *u, int zero_g)
{
    PICK(adam_v, adam_c)(p, g, mo, ve, ema, n, gs, u, zero_g);
}

static void add_c(float *out, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

void sdd_vec_add(float *out, const float *a, const float *b, size_t n) { PICK(add_v, add_c)(out, a, b, n); }
double sdd_vec_bitbce(float *d, const float *o, const float *y, const float *bit, size_t n, float k, float ds)
{
    return PICK(bitbce_v, bitbce_c)(d, o, y, bit, n, k, ds);
}

void sdd_vec_ddim(float *x, const float *x0, size_t n, double sn, double s1n, float a, float b)
{
    PICK(ddim_v, ddim_c)(x, x0, n, sn, s1n, a, b);
}

void sdd_vec_affine2(float *y, const float *x, const float *f, size_t n, float a, float b, float c)
{
    PICK(affine2_v, affine2_c)(y, x, f, n, a, b, c);
}

void sdd_vec_clamp(float *x, size_t n, float lim) { PICK(clamp_v, clamp_c)(x, n, lim); }

void sdd_vec_bitlogit(float *o, const float *x, size_t n, float k, float bs)
{
    PICK(bitlogit_v, bitlogit_c)(o, x, n, k, bs);
}
