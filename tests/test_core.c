/* test_core: RNG, strict parsing, CSR operations and columns against hand-computed values. */
#include "sddcell.h"
#include "sdd_internal.h"
#include "tap.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_rng(void)
{
    sdd_rng_t r, a, b;
    double s = 0, s2 = 0, m = 0;
    int n = 200000, hist[10] = {0};
    /* splitmix64 from 0 gives the published first state word 0xe220a8397b1dcdaf */
    sdd_rng_seed(&r, 0);
    CHECK(r.s[0] == 0xe220a8397b1dcdafULL);
    CHECK(r.s[1] == 0x6e789e6aa1b965f4ULL);
    /* the same seed gives the same stream; different split streams differ */
    sdd_rng_seed(&a, 7);
    sdd_rng_seed(&b, 7);
    for (int i = 0; i < 100; i++) CHECK(sdd_rng_u64(&a) == sdd_rng_u64(&b));
    sdd_rng_split(&a, 1, &b);
    sdd_rng_split(&a, 2, &r);
    CHECK(sdd_rng_u64(&b) != sdd_rng_u64(&r));
    /* moments of the normal and uniform, and an unbiased bounded draw */
    sdd_rng_seed(&r, 1);
    for (int i = 0; i < n; i++) {
        double z = sdd_rng_normal(&r);
        s += z;
        s2 += z * z;
        m += sdd_rng_uniform(&r);
        hist[sdd_rng_below(&r, 10)]++;
    }
    CHECK_CLOSE(s / n, 0.0, 0, 0.01);
    CHECK_CLOSE(s2 / n, 1.0, 0, 0.02);
    CHECK_CLOSE(m / n, 0.5, 0, 0.005);
    for (int k = 0; k < 10; k++) CHECK_CLOSE(hist[k] / (double)n, 0.1, 0, 0.005);
    /* the ziggurat's normals: moments, the share beyond its tail start R (where its
     * rejection from the exponential takes over) against erfc, and the Kolmogorov-Smirnov
     * distance to the normal CDF under its 1% critical value 1.628 / sqrt(N) */
    {
        enum { N = 1000000 };
        float *z = malloc(N * sizeof *z);
        double z1 = 0, z2 = 0, z4 = 0, ks = 0;
        int64_t tail = 0;
        CHECK(z != NULL);
        if (z) {
            sdd_rng_seed(&r, 5);
            sdd_rng_normals(&r, z, N);
            for (int i = 0; i < N; i++) {
                double v = z[i];
                z1 += v;
                z2 += v * v;
                z4 += v * v * v * v;
                tail += fabs(v) > 3.442619855899;
            }
            CHECK_CLOSE(z1 / N, 0.0, 0, 0.005);
            CHECK_CLOSE(z2 / N, 1.0, 0, 0.005);
            CHECK_CLOSE(z4 / N, 3.0, 0, 0.05);
            CHECK_CLOSE(tail / (double)N, erfc(3.442619855899 / sqrt(2.0)), 0.1, 0);
            qsort(z, N, sizeof *z, cmp_float);
            for (int i = 0; i < N; i++) {
                double F = 0.5 * erfc(-z[i] / sqrt(2.0)), lo = F - (double)i / N, hi = (double)(i + 1) / N - F;
                ks = lo > ks ? lo : hi > ks ? hi : ks;
            }
            CHECK_MSG(ks < 1.628 / sqrt((double)N), "KS distance %.3g", ks);
            free(z);
        }
    }
    /* Poisson mean and variance, small and large lambda */
    for (int li = 0; li < 2; li++) {
        double lam = li ? 57.5 : 2.3, ps = 0, ps2 = 0;
        for (int i = 0; i < n; i++) {
            double k = (double)sdd_rng_poisson(&r, lam);
            ps += k;
            ps2 += k * k;
        }
        CHECK_CLOSE(ps / n, lam, 0.01, 0);
        CHECK_CLOSE(ps2 / n - (ps / n) * (ps / n), lam, 0.03, 0);
    }
}

static void test_parse(void)
{
    int64_t v;
    double d;
    CHECK(sdd_parse_int64("42", 0, 100, "n", &v) == 0 && v == 42);
    CHECK(sdd_parse_int64("42x", 0, 100, "n", &v) == SDD_EINVAL);
    CHECK(sdd_parse_int64("", 0, 100, "n", &v) == SDD_EINVAL);
    CHECK(sdd_parse_int64(" 4", 0, 100, "n", &v) == SDD_EINVAL);
    CHECK(sdd_parse_int64("101", 0, 100, "n", &v) == SDD_EINVAL);
    CHECK(sdd_parse_int64("99999999999999999999999", 0, INT64_MAX, "n", &v) == SDD_EINVAL);
    CHECK(strstr(sdd_errdetail(), "out of range") != NULL);
    CHECK(sdd_parse_double("1e-3", 0, 1, "lr", &d) == 0 && d == 1e-3);
    CHECK(sdd_parse_double("nan", 0, 1, "lr", &d) == SDD_EINVAL);
    CHECK(sdd_parse_double("0.5.", 0, 1, "lr", &d) == SDD_EINVAL);
}

static void test_csr(void)
{
    /* 3 x 4 matrix
     *  [1 0 2 0]
     *  [0 0 0 0]
     *  [0 3 0 4] */
    float dense[12] = {1, 0, 2, 0, 0, 0, 0, 0, 0, 3, 0, 4};
    sdd_csr_t m, t, s, r;
    int64_t cols[2] = {3, 0}, rows[2] = {2, 0};
    CHECK(sdd_csr_from_dense(dense, 3, 4, &m) == 0);
    CHECK(m.nnz == 4 && m.indptr[1] == 2 && m.indptr[2] == 2 && m.indptr[3] == 4);
    CHECK(sdd_csr_validate(&m, "m") == 0);
    CHECK_CLOSE(sdd_csr_sum(&m), 10.0, 0, 0);
    CHECK(sdd_csr_transpose(&m, &t) == 0);
    CHECK(t.n_rows == 4 && t.n_cols == 3 && t.nnz == 4);
    /* column 3 of m = row 3 of t holds 4 at row 2 */
    CHECK(t.indptr[4] - t.indptr[3] == 1 && t.indices[t.indptr[3]] == 2 && t.data[t.indptr[3]] == 4);
    CHECK(sdd_csr_select_cols(&m, cols, 2, &s) == 0);
    /* new column 0 = old 3, new 1 = old 0: row 0 -> [0 1], row 2 -> [4 0] */
    CHECK(s.nnz == 2 && s.indices[0] == 1 && s.data[0] == 1 && s.indices[1] == 0 && s.data[1] == 4);
    CHECK(sdd_csr_select_rows(&m, rows, 2, &r) == 0);
    CHECK(r.nnz == 4 && r.data[0] == 3 && r.data[2] == 1);
    CHECK(sdd_csr_append_rows(&r, &m) == 0);
    CHECK(r.n_rows == 5 && r.nnz == 8 && sdd_csr_validate(&r, "r") == 0);
    /* broken structure is reported, not crashed on */
    m.indices[1] = 9;
    CHECK(sdd_csr_validate(&m, "bad") == SDD_EFORMAT);
    CHECK(strstr(sdd_errdetail(), "outside") != NULL);
    m.indices[1] = 2;
    m.indptr[2] = 1;
    CHECK(sdd_csr_validate(&m, "bad") == SDD_EFORMAT);
    /* unsorted rows get sorted with their data */
    m.indptr[2] = 2;
    m.indices[2] = 3; m.data[2] = 4; m.indices[3] = 1; m.data[3] = 3;
    sdd_csr_sort(&m);
    CHECK(m.indices[2] == 1 && m.data[2] == 3 && m.indices[3] == 3 && m.data[3] == 4);
    sdd_csr_free(&m);
    sdd_csr_free(&t);
    sdd_csr_free(&s);
    sdd_csr_free(&r);
}

static void test_columns(void)
{
    sdd_column_t c = {0}, d;
    char *cats[] = {"B", "T"};
    int32_t codes[] = {0, 1, -1};
    c.name = "cell_type";
    c.kind = SDD_COL_CATEGORICAL;
    c.n = 3;
    c.codes = codes;
    c.categories = cats;
    c.n_categories = 2;
    CHECK(sdd_column_copy(&d, &c) == 0);
    CHECK(strcmp(d.categories[1], "T") == 0 && d.codes[2] == -1 && d.codes != codes);
    CHECK(sdd_column_find(&d, 1, "cell_type") == 0 && sdd_column_find(&d, 1, "x") == -1);
    sdd_column_free(&d);
}

static void test_normalize(void)
{
    /* rows totals 4, 0, 8: median of non-zero totals = 6 */
    float dense[6] = {1, 3, 0, 0, 6, 2};
    sdd_csr_t m;
    double lib[3];
    CHECK(sdd_csr_from_dense(dense, 3, 2, &m) == 0);
    CHECK(sdd_normalize_total(&m, 0, lib) == 0);
    CHECK(lib[0] == 4 && lib[1] == 0 && lib[2] == 8);
    CHECK_CLOSE(m.data[0], 1.5, 1e-7, 0);   /* 1 * 6/4 */
    CHECK_CLOSE(m.data[1], 4.5, 1e-7, 0);
    CHECK_CLOSE(m.data[2], 4.5, 1e-7, 0);   /* 6 * 6/8 */
    sdd_log1p(&m);
    CHECK_CLOSE(m.data[0], log(2.5), 1e-7, 0);
    sdd_csr_free(&m);
    CHECK(sdd_csr_from_dense(dense, 3, 2, &m) == 0);
    CHECK(sdd_normalize_total(&m, 1e4, NULL) == 0);
    CHECK_CLOSE(m.data[0] + m.data[1], 1e4, 1e-6, 0);
    sdd_csr_free(&m);
}


/* Write text to dir/rel, making the directories on the way. */
static void put(const char *dir, const char *rel, const char *text)
{
    char path[1024], *p;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    for (p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
        *p = 0;
        mkdir(path, 0755);
        *p = '/';
    }
    if ((f = fopen(path, "w"))) fputs(text, f), fclose(f);
}

/* The CPU quota of a cgroup and its ancestors, v2 and v1, on a fake cgroup tree. */
static void test_cpus(void)
{
    char dir[] = "/tmp/sdd_cpus.XXXXXX", self[1100], root[1100], cmd[1200];
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int n = sdd_cpus_available();
    CHECK(n >= 1 && n <= 1024);
    CHECK(online < 1 || n <= online);
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(self, sizeof self, "%s/self", dir);
    snprintf(root, sizeof root, "%s/cg", dir);
    /* v2: 1.5 CPUs on the cgroup itself, none on its parent -> 2 */
    put(dir, "self", "0::/a/b\n");
    put(dir, "cg/a/cpu.max", "max 100000\n");
    put(dir, "cg/a/b/cpu.max", "150000 100000\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 2);
    /* a tighter parent wins: 0.5 CPU -> 1 */
    put(dir, "cg/a/cpu.max", "50000 100000\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 1);
    /* no limit anywhere -> 0 */
    put(dir, "cg/a/cpu.max", "max 100000\n");
    put(dir, "cg/a/b/cpu.max", "max 100000\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 0);
    /* the path of another namespace: the walk reaches the mount's root, which holds the limit */
    put(dir, "self", "0::/../../elsewhere\n");
    put(dir, "cg/cpu.max", "400000 100000\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 4);
    /* v1: quota / period under the cpu controller's mount, -1 = none */
    put(dir, "self", "12:memory:/x\n4:cpu,cpuacct:/x\n");
    put(dir, "cg/cpu,cpuacct/x/cpu.cfs_quota_us", "300000\n");
    put(dir, "cg/cpu,cpuacct/x/cpu.cfs_period_us", "100000\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 3);
    put(dir, "cg/cpu,cpuacct/x/cpu.cfs_quota_us", "-1\n");
    CHECK(sdd_cgroup_cpu_limit(self, root) == 0);
    /* no such file: no limit */
    CHECK(sdd_cgroup_cpu_limit("/nonexistent/cgroup", root) == 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    test_normalize();
    CHECK(sdd_init() == 0);
    test_rng();
    test_parse();
    test_csr();
    test_columns();
    test_cpus();
    CHECK(sdd_error(SDD_EIO, "x %d", 3) == SDD_EIO && strcmp(sdd_errdetail(), "x 3") == 0);
    return tap_done();
}
