# bench_common.sh: what bench_train.sh and bench_sample.sh share, sourced by both: the
# three PyTorch settings within two cores and the machine's sgemm rate, run once a
# round, then medians and ratios. The caller defines `tor LABEL TORCH_THREADS
# BLAS_THREADS` and sets DRIVER (the sgemm driver), RAW, tmp and the round number i.

torch_and_sgemm_round() {
    tor torch_1_1 1 1
    tor torch_1_2 1 2
    tor torch_2_1 2 1
    [ -x "$DRIVER" ] || return 0
    for t in 1 2; do
        OPENBLAS_NUM_THREADS=1 "$DRIVER" sgemm $t | sed "s/^/round $i /" | tee -a "$RAW" >>"$tmp/sgemm"
    done
}

med() { # label -> the median of its runs
    grep " $1 " "$tmp/runs" | awk '{print $4}' | sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]}'
}

sgemm_med() { # threads -> the median sgemm rate, or n/a without the driver
    [ -f "$tmp/sgemm" ] || { echo "n/a"; return; }
    grep "$1 threads:" "$tmp/sgemm" | sed 's/.*: \([0-9.]*\) GFLOP.*/\1/' | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
