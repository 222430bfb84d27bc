# bench_common.sh: what bench_train.sh and bench_sample.sh share, sourced by both: the
# three PyTorch settings within two cores and the machine's sgemm rate, run once a
# round, then medians and ratios. The caller defines `tor LABEL TORCH_THREADS
# BLAS_THREADS` and sets DRIVER (the sgemm driver), RAW, tmp and the round number i.
#
# OpenBLAS's kernels: PyTorch runs its products on the same OpenBLAS. Where OpenBLAS
# does not know the CPU and falls back to its SSE3 kernels, sddcell picks the kernels of
# the CPU's instruction sets itself (`sddcell -v` says so); PyTorch then gets the same
# kernels through OPENBLAS_CORETYPE (TORCH_CORE, for `tor`), so its settings are its best
# on this machine, not the fallback's.
kern=$("${SDDCELL:-./sddcell}" -v info "$(dirname "$0")/../example_data/pbmc3k_1k.h5ad" 2>&1 >/dev/null |
    sed -n 's/^\[M::main\] BLAS kernels: //p')
case "$kern" in
*"OpenBLAS took this CPU for"*) TORCH_CORE="OPENBLAS_CORETYPE=${kern%% *}" ;;
*) TORCH_CORE= ;;
esac
echo "# OpenBLAS kernels: sddcell ${kern:-unknown}; PyTorch ${TORCH_CORE:-OpenBLAS's choice}" | tee -a "$RAW"

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

paired() { # label-a label-b -> the median over rounds of a / b within each round, where
    # b may be "torch_best" (the round's fastest of torch's three settings): a ratio that
    # a slow drift of the machine between rounds does not move
    awk -v a="$1" -v b="$2" '
        $3 == a { x[$2] = $4 }
        $3 == b || (b == "torch_best" && $3 ~ /^torch_/) { if (!($2 in y) || $4 > y[$2]) y[$2] = $4 }
        END { n = 0; for (r in x) if ((r in y) && y[r] > 0) v[++n] = x[r] / y[r]
              if (!n) { print "n/a"; exit }
              for (i = 2; i <= n; i++) { t = v[i]; for (j = i - 1; j >= 1 && v[j] > t; j--) v[j + 1] = v[j]; v[j + 1] = t }
              printf "%.2f", v[int((n + 1) / 2)] }' "$tmp/runs"
}

speed_summary() { # "what was run" unit precision... -> the medians, the ratios to torch and the
    # 1->2 scaling of each precision run (default fp32 bf16; one not run is said so);
    # sets s1 s2 (sddcell fp32 on 1 and 2 threads) and tb (torch's best two-core median)
    what=$1 unit=$2
    shift 2
    [ $# -gt 0 ] || set -- fp32 bf16
    s1=$(med sdd_fp32_t1); s2=$(med sdd_fp32_t2)
    t11=$(med torch_1_1); t12=$(med torch_1_2); t21=$(med torch_2_1)
    best=$(printf '%s torch_1_1\n%s torch_1_2\n%s torch_2_1\n' "$t11" "$t12" "$t21" | sort -g | tail -1)
    tb=${best% *}; tbn=${best#* }
    echo
    echo "medians of $REPEATS rounds ($what; $unit):"
    echo "  torch (threads, OPENBLAS_NUM_THREADS): (1,1) $t11  (1,2) $t12  (2,1) $t21; best two-core: $tbn $tb"
    for p in "$@"; do
        a=$(med sdd_${p}_t1); b=$(med sdd_${p}_t2)
        if [ -z "$a" ]; then
            case $p in
            int8) echo "  sddcell int8: skipped, this CPU lacks AVX512_VNNI (int8 products run on portable loops here)" ;;
            *) echo "  sddcell $p: skipped, this CPU lacks AVX512_BF16 (--precision bf16 runs fp32 products here)" ;;
            esac
            continue
        fi
        echo "  sddcell $p: 1 thread $a ($(ratio "$a" "$t11")x torch one core), 2 threads $b ($(ratio "$b" "$tb")x torch best two-core); 1->2 threads $(ratio "$b" "$a")x"
        echo "    ratios within each round, median over rounds: 2 threads $(paired sdd_${p}_t2 torch_best)x torch's best" \
             "setting of that round, 1 thread $(paired sdd_${p}_t1 torch_1_1)x torch one core, 1->2 threads" \
             "$(paired sdd_${p}_t2 sdd_${p}_t1)x"
    done
}
