/*
 * cpus.c: how many CPUs this process may use, the default of --threads.
 *
 *   n = min(CPUs in the affinity mask (sched_getaffinity), ceil(quota / period))
 *
 * where the quota is the tightest CPU bandwidth limit of the process's cgroup or any of
 * its ancestors: cgroup v2 `cpu.max` ("QUOTA PERIOD" or "max PERIOD"), cgroup v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = none) under the cpu controller's
 * mount. The machine's total (sysconf) is used only when the mask cannot be read. The
 * cgroup's path comes from /proc/self/cgroup; inside a container whose cgroup namespace
 * hides the path, the walk up still reaches the namespace's root, which holds the
 * container's limit. Results of the library do not depend on the thread count, so the
 * default only changes the speed.
 */
#define _GNU_SOURCE
#include "sdd_internal.h"
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#define MAX_CPUS 1024 /* the largest --threads */

/* CPUs in the affinity mask, or 0 when it cannot be read. */
static int affinity_cpus(void)
{
    for (int size = 1024; size <= 65536; size *= 4) {
        cpu_set_t *set = CPU_ALLOC(size);
        size_t bytes = CPU_ALLOC_SIZE(size);
        int n = 0, rc;
        if (!set) return 0;
        CPU_ZERO_S(bytes, set);
        rc = sched_getaffinity(0, bytes, set);
        if (rc == 0) n = CPU_COUNT_S(bytes, set);
        CPU_FREE(set);
        if (rc == 0) return n;
        if (errno != EINVAL) return 0; /* EINVAL: the kernel's mask is larger; retry */
    }
    return 0;
}

/* The first line of a small file, or -1. */
static int read_line(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    int ok;
    if (!f) return -1;
    ok = fgets(buf, (int)n, f) != NULL;
    fclose(f);
    return ok ? 0 : -1;
}

/* CPUs allowed by the limit files in directory dir (v2: cpu.max; v1: cfs files), or 0
 * for no limit there. */
static double dir_limit(const char *dir, int v2)
{
    char path[4096], a[128], b[128];
    double quota, period;
    if (v2) {
        char *end;
        snprintf(path, sizeof path, "%s/cpu.max", dir);
        if (read_line(path, a, sizeof a) < 0 || strncmp(a, "max", 3) == 0) return 0;
        quota = strtod(a, &end);
        period = strtod(end, NULL);
    } else {
        snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir);
        if (read_line(path, a, sizeof a) < 0) return 0;
        snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir);
        if (read_line(path, b, sizeof b) < 0) return 0;
        quota = strtod(a, NULL);
        period = strtod(b, NULL);
    }
    return quota > 0 && period > 0 ? quota / period : 0;
}

/* The tightest limit on `rel` (a cgroup path starting with '/') and its ancestors under
 * the mount `root`; 0 = none. */
static double walk_limit(const char *root, const char *rel, int v2)
{
    char dir[4096];
    double best = 0;
    size_t len;
    snprintf(dir, sizeof dir, "%s%s", root, rel);
    len = strlen(dir);
    while (len > 0 && dir[len - 1] == '/') dir[--len] = 0;
    for (;;) {
        double l = dir_limit(dir, v2);
        char *slash;
        if (l > 0 && (best == 0 || l < best)) best = l;
        if (strlen(dir) <= strlen(root)) break;
        if (!(slash = strrchr(dir, '/'))) break;
        *slash = 0;
    }
    return best;
}

/* Does the comma-separated controller list name "cpu"? */
static int has_cpu_controller(const char *list)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == 3 && strncmp(p, "cpu", 3) == 0) return 1;
        p += n;
        if (*p == ',') p++;
    }
    return 0;
}

int sdd_cgroup_cpu_limit(const char *self_cgroup, const char *cgroup_root)
{
    FILE *f = fopen(self_cgroup, "r");
    char line[4096], root[4096];
    double best = 0;
    if (!f) return 0;
    while (fgets(line, sizeof line, f)) {
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *path;
        double l = 0;
        if (!c2) continue;
        *c1 = 0, *c2 = 0;
        path = c2 + 1;
        path[strcspn(path, "\n")] = 0;
        if (path[0] != '/') continue;
        if (c1[1] == 0 && strcmp(line, "0") == 0) { /* v2 unified hierarchy: "0::/path" */
            l = walk_limit(cgroup_root, path, 1);
            if (l == 0) { /* hybrid layout: v2 mounted beside v1 */
                snprintf(root, sizeof root, "%s/unified", cgroup_root);
                l = walk_limit(root, path, 1);
            }
        } else if (has_cpu_controller(c1 + 1)) {     /* v1: "4:cpu,cpuacct:/path" */
            static const char *mounts[] = {"cpu,cpuacct", "cpu", "cpuacct,cpu"};
            for (int k = 0; k < 3 && l == 0; k++) {
                snprintf(root, sizeof root, "%s/%s", cgroup_root, mounts[k]);
                l = walk_limit(root, path, 0);
            }
        }
        if (l > 0 && (best == 0 || l < best)) best = l;
    }
    fclose(f);
    if (best <= 0) return 0;
    best = ceil(best - 1e-9);
    return best < 1 ? 1 : best > MAX_CPUS ? MAX_CPUS : (int)best;
}

int sdd_cpus_available(void)
{
    int n = affinity_cpus(), q;
    if (n <= 0) {
        long s = sysconf(_SC_NPROCESSORS_ONLN);
        n = s > 0 ? (int)(s > MAX_CPUS ? MAX_CPUS : s) : 1;
    }
    q = sdd_cgroup_cpu_limit("/proc/self/cgroup", "/sys/fs/cgroup");
    if (q > 0 && q < n) n = q;
    return n < 1 ? 1 : n > MAX_CPUS ? MAX_CPUS : n;
}
