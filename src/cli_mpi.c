/*
 * cli_mpi.c: the MPI side of `mpirun -np R sddcell train` (built with ./configure
 * --with-mpi; without it every call below is the one-process case, and a start under a
 * launcher of several processes is refused rather than run R times over).
 *
 * Every rank reads and preprocesses the input itself (the same QC, HVG and scaling, so
 * the same training set), draws the same batches from the same seeded RNG and computes
 * the gradients of its share of the batch's slices (sdd_model_set_parallel). The
 * exchange: MPI_Allgather of each rank's pairwise partial sum, n_params + 1 floats
 * (gradient and loss), after which every rank adds the R partials pairwise in rank
 * order (sdd_pairwise_sum). That is the order one process adds the same slices in, so
 * the model does not depend on R: each rank receives (R - 1)(n_params + 1) 4-byte floats
 * a step. Errors: ranks agree on who failed (cli_mpi_agree) and only the lowest failing
 * rank prints its line.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "cli.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#ifdef HAVE_MPI
#include <mpi.h>

static int started;
static float *gather;        /* [R][n] the ranks' partial sums */
static size_t gather_n;

int cli_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
    *rank = 0;
    *size = 1;
    /* only under a launcher: a plain `sddcell train` stays one process without MPI */
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_SIZE")) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) return -1;
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

int cli_mpi_reduce(float *buf, int64_t n, void *user)
{
    int size;
    float *parts[1024];
    (void)user;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (n > INT32_MAX || size > 1024) return -1;
    if (gather_n < (size_t)n * size) {
        free(gather);
        gather_n = 0;
        if (!(gather = malloc((size_t)n * size * sizeof *gather))) return -1;
        gather_n = (size_t)n * size;
    }
    if (MPI_Allgather(buf, (int)n, MPI_FLOAT, gather, (int)n, MPI_FLOAT, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    for (int r = 0; r < size; r++) parts[r] = gather + (size_t)r * n;
    sdd_pairwise_sum(parts, size, n, buf);
    return 0;
}

int cli_mpi_agree(int failed)
{
    int size, first = -1, *all;
    if (!started) return failed ? 0 : -1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (!(all = malloc((size_t)size * sizeof *all))) return 0;
    MPI_Allgather(&failed, 1, MPI_INT, all, 1, MPI_INT, MPI_COMM_WORLD);
    for (int r = 0; r < size && first < 0; r++)
        if (all[r]) first = r;
    free(all);
    return first;
}

void cli_mpi_end(void)
{
    free(gather);
    gather = NULL;
    gather_n = 0;
    if (started) MPI_Finalize();
    started = 0;
}

int cli_mpi_built(void) { return 1; }

#else

/* A launcher's rank or size variable: a whole decimal number in [0, 2^20], else -1. */
static int env_count(const char *name)
{
    const char *v = getenv(name);
    char *end;
    long x;
    if (!v || !*v) return -1;
    errno = 0;
    x = strtol(v, &end, 10);
    return errno || *end || x < 0 || x > (1L << 20) ? -1 : (int)x;
}

/* Under mpirun without MPI compiled in, every process would train the whole model on its
 * own: refused, and only the launcher's rank 0 says so. */
int cli_mpi_start(int *argc, char ***argv, int *rank, int *size)
{
    int n = env_count("OMPI_COMM_WORLD_SIZE"), r = env_count("OMPI_COMM_WORLD_RANK");
    (void)argc;
    (void)argv;
    *rank = 0;
    *size = 1;
    if (n < 0) n = env_count("PMI_SIZE"), r = env_count("PMI_RANK");
    if (n > 1) {
        *rank = r > 0 ? r : 0;
        *size = n;
        return -2;
    }
    return 0;
}

int cli_mpi_reduce(float *buf, int64_t n, void *user)
{
    (void)buf;
    (void)n;
    (void)user;
    return 0;
}

int cli_mpi_agree(int failed) { return failed ? 0 : -1; }
void cli_mpi_end(void) {}
int cli_mpi_built(void) { return 0; }

#endif
