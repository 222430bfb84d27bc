/*
 * h5_msg.c: how HDF5 elements and HDF5's own errors appear in messages (declared in
 * h5_util.h). sdd_h5_where names an element as "<file>: <object path>/<name>", the
 * prefix of every message about a file's contents; sdd_h5_last_error gives the innermost
 * description on HDF5's error stack, which sdd_init keeps from being printed. Below both
 * the HDF5 layer (hdf5_util.c) and its metadata checks (h5_guard.c), which use them.
 */
#include "h5_util.h"
#include <stdio.h>

static _Thread_local char h5_errmsg[256];

static herr_t walk_cb(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)data;
    if (n == 0 && e->desc) snprintf(h5_errmsg, sizeof h5_errmsg, "%s", e->desc);
    return 0;
}

const char *sdd_h5_last_error(void)
{
    h5_errmsg[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, walk_cb, NULL);
    return h5_errmsg;
}

const char *sdd_h5_where(hid_t loc, const char *name, char *buf, size_t n)
{
    char file[512] = "", obj[512] = "";
    const char *base, *o;
    if (H5Fget_name(loc, file, sizeof file) < 0) snprintf(file, sizeof file, "?");
    if (H5Iget_name(loc, obj, sizeof obj) < 0) obj[0] = 0;
    base = file;
    o = obj[0] == '/' ? obj + 1 : obj;
    if (name && name[0] == '/') name++;
    if (*o && name && *name) snprintf(buf, n, "%s: %s/%s", base, o, name);
    else if (name && *name) snprintf(buf, n, "%s: %s", base, name);
    else if (*o) snprintf(buf, n, "%s: %s", base, o);
    else snprintf(buf, n, "%s", base);
    return buf;
}
