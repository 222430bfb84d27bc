/*
 * cli_report.c: --report OUT.html and --multiqc DIR of `simulate` and `evaluate`. The
 * destinations are checked before the long work starts, the texts are built by the
 * library (sdd_report_html, sdd_multiqc_json) and written here, each under a temporary
 * name renamed into place; if any of them cannot be written, the ones already written
 * are removed, so a failed run leaves no half set behind.
 */
#include "cli.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The directory part of path ("." when it has none), in buf. */
static void dir_of(const char *path, char *buf, size_t n)
{
    const char *s = strrchr(path, '/');
    if (!s) snprintf(buf, n, ".");
    else if (s == path) snprintf(buf, n, "/");
    else snprintf(buf, n, "%.*s", (int)(s - path), path);
}

int cli_report_check(const cli_ctx_t *ctx, cli_report_opt_t *o)
{
    char dir[4096];
    struct stat st;
    if (o->html) {
        size_t n = strlen(o->html);
        if (n == 0 || o->html[n - 1] == '/') return cli_error(ctx, "--report '%s': give a file name", o->html);
        dir_of(o->html, dir, sizeof dir);
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            return cli_error(ctx, "--report %s: the directory %s does not exist", o->html, dir);
        if (access(dir, W_OK) != 0) return cli_error(ctx, "--report %s: cannot write in %s", o->html, dir);
        if (stat(o->html, &st) == 0 && S_ISDIR(st.st_mode))
            return cli_error(ctx, "--report %s: is a directory", o->html);
    }
    if (o->multiqc_dir) {
        if (!*o->multiqc_dir) return cli_error(ctx, "--multiqc: give a directory");
        if (stat(o->multiqc_dir, &st) != 0) {
            if (mkdir(o->multiqc_dir, 0777) != 0)
                return cli_error(ctx, "--multiqc %s: cannot create the directory (%s)", o->multiqc_dir, strerror(errno));
            o->created_dir = 1;
        } else if (!S_ISDIR(st.st_mode)) {
            return cli_error(ctx, "--multiqc %s: not a directory", o->multiqc_dir);
        }
        if (access(o->multiqc_dir, W_OK) != 0) return cli_error(ctx, "--multiqc %s: cannot write there", o->multiqc_dir);
    }
    return CLI_OK;
}

void cli_report_abandon(const cli_report_opt_t *o)
{
    if (o->created_dir) rmdir(o->multiqc_dir);
}

/* Write len bytes to path through a temporary name; 0 or -1 (errno kept). */
static int write_file(const char *path, const char *data, size_t len)
{
    char *tmp = sdd_tmp_path(path);
    FILE *f;
    int ok = 0;
    if (!tmp) return -1;
    sdd_tmp_track(tmp);
    if ((f = fopen(tmp, "wb"))) {
        ok = fwrite(data, 1, len, f) == len;
        ok = fclose(f) == 0 && ok;
        if (ok) ok = rename(tmp, path) == 0;
        if (!ok) remove(tmp);
    }
    sdd_tmp_untrack(tmp);
    free(tmp);
    return ok ? 0 : -1;
}

/* The sample name: the base name of `name` without a directory and without `.h5ad`. */
static char *sample_name(const char *name)
{
    const char *b = strrchr(name, '/');
    char *s;
    size_t n;
    b = b ? b + 1 : name;
    n = strlen(b);
    if (n > 5 && strcmp(b + n - 5, ".h5ad") == 0) n -= 5;
    if (!(s = malloc(n + 1))) return NULL;
    memcpy(s, b, n);
    s[n] = 0;
    return s;
}

char *cli_command_line(const cli_ctx_t *ctx)
{
    size_t len = 1;
    char *cmd;
    for (int i = 0; i < ctx->argc; i++) len += strlen(ctx->argv[i]) + 1;
    if (!(cmd = calloc(1, len))) return NULL;
    for (int i = 0; i < ctx->argc; i++) {
        if (i) strcat(cmd, " ");
        strcat(cmd, ctx->argv[i]);
    }
    return cmd;
}

void cli_report_built_free(cli_report_built_t *b)
{
    free(b->html);
    free(b->general);
    free(b->table);
    free(b->paths[0]);
    free(b->paths[1]);
    memset(b, 0, sizeof *b);
}

/* The texts of r, which carries everything but the command line and the recipe. */
static int build_texts(cli_ctx_t *ctx, const cli_report_opt_t *o, const sdd_report_t *r, cli_report_built_t *b)
{
    int rc;
    if (o->html && (rc = sdd_report_html(r, cli_progress, ctx, &b->html, &b->html_len)) < 0) goto fail;
    if (o->multiqc_dir) {
        char *s = sample_name(o->sample);
        size_t n;
        if (!s) return cli_error(ctx, "out of memory");
        rc = sdd_multiqc_json(r, s, &b->general, &b->table);
        n = strlen(o->multiqc_dir) + strlen(s) + 64;
        if (rc == 0 && (b->paths[0] = malloc(n)) && (b->paths[1] = malloc(n))) {
            snprintf(b->paths[0], n, "%s/%s_sddcell_general_stats_mqc.json", o->multiqc_dir, s);
            snprintf(b->paths[1], n, "%s/%s_sddcell_mqc.json", o->multiqc_dir, s);
        }
        free(s);
        if (rc < 0) goto fail;
        if (!b->paths[1]) {
            cli_report_built_free(b);
            return cli_error(ctx, "out of memory");
        }
    }
    return CLI_OK;
fail:
    cli_report_built_free(b);
    return cli_lib_error(ctx, rc);
}

int cli_report_build(cli_ctx_t *ctx, const cli_report_opt_t *o, sdd_report_t *r, cJSON *recipe,
                     cli_report_built_t *b)
{
    char *cmd = cli_command_line(ctx);
    int rc;
    memset(b, 0, sizeof *b);
    if (!recipe || !cmd) {
        rc = cli_error(ctx, "out of memory");
    } else {
        r->command = cmd, r->recipe = recipe;
        rc = build_texts(ctx, o, r, b);
        r->command = NULL, r->recipe = NULL;
    }
    cJSON_Delete(recipe);
    free(cmd);
    return rc;
}

int cli_report_write(const cli_ctx_t *ctx, const cli_report_opt_t *o, const cli_report_built_t *b)
{
    const char *done[3] = {NULL, NULL, NULL};
    const char *bad = NULL;
    int nd = 0, err = 0;
    if (b->html) {
        if (write_file(o->html, b->html, b->html_len) == 0) done[nd++] = o->html;
        else bad = o->html, err = errno;
    }
    for (int k = 0; k < 2 && !bad && b->paths[k]; k++) {
        const char *text = k ? b->table : b->general;
        if (write_file(b->paths[k], text, strlen(text)) == 0) done[nd++] = b->paths[k];
        else bad = b->paths[k], err = errno;
    }
    if (!bad) return CLI_OK;
    for (int k = 0; k < nd; k++) unlink(done[k]);
    return cli_error(ctx, "%s: cannot write the file (%s)", bad, strerror(err));
}
