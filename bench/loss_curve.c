/* loss_curve: train sddcell on FILE (1000 HVG, seurat) for STEPS steps at learning rate LR
 * and print the mean training loss of each window of W steps, for the comparison with the
 * PyTorch reference (bench/loss_curve_torch.py) in bench/loss_curve.sh.
 * usage: loss_curve FILE STEPS LR W THREADS */
#include "bench_util.h"
#include <stdio.h>
#include <stdlib.h>

typedef struct { double sum; int n, w; } win_t;

static int record(const char *stage, int64_t done, int64_t total, const char *status, void *user)
{
    win_t *w = user;
    double loss;
    if (sdd_parse_double(status + 5, 0, 1e30, "loss", &loss) < 0) return 1;
    w->sum += loss;
    if (++w->n == w->w) {
        printf("%lld\t%.5f\n", (long long)done, w->sum / w->n);
        fflush(stdout);
        w->sum = 0;
        w->n = 0;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_run_t r;
    int64_t steps, w, th;
    double lr;
    win_t win = {0};
    if (argc != 6 || sdd_parse_int64(argv[2], 1, 1000000, "steps", &steps) ||
        sdd_parse_double(argv[3], 1e-9, 1, "lr", &lr) || sdd_parse_int64(argv[4], 1, 100000, "window", &w) ||
        sdd_parse_int64(argv[5], 1, 64, "threads", &th)) {
        fprintf(stderr, "usage: loss_curve FILE STEPS LR WINDOW THREADS\n");
        return 1;
    }
    bench_init(&r);
    r.to.steps = steps;
    r.to.lr = lr;
    win.w = (int)w;
    double t0 = sdd_realtime();
    if (bench_setup("loss_curve", argv[1], &r, (int)th)) return 1;
    if (sdd_model_train(r.m, r.ts, record, &win) < 0) {
        fprintf(stderr, "loss_curve: %s\n", sdd_errdetail());
        return 1;
    }
    fprintf(stderr, "sddcell: %lld steps in %.1f s\n", (long long)steps, sdd_realtime() - t0);
    bench_free(&r);
    return 0;
}
