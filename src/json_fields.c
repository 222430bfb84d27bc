/*
 * json_fields.c: the fields a table names (sdd_json_field_t) written into a cJSON object.
 */
#include "sdd_internal.h"
#include <cjson/cJSON.h>
#include <math.h>

int sdd_json_add_fields(void *json, const void *s, const sdd_json_field_t *f, size_t n)
{
    cJSON *o = json;
    if (!o) return -1;
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)s + f[i].offset;
        cJSON *v;
        double d;
        switch (f[i].kind) {
        case SDD_JF_I64: d = (double)*(const int64_t *)p; break;
        case SDD_JF_U64: d = (double)*(const uint64_t *)p; break;
        case SDD_JF_INT:
        case SDD_JF_BOOL: d = (double)*(const int *)p; break;
        default: d = *(const double *)p; break;
        }
        if (f[i].kind == SDD_JF_BOOL) v = cJSON_CreateBool(d != 0);
        else v = isfinite(d) ? cJSON_CreateNumber(d) : cJSON_CreateNull();
        if (!v || !cJSON_AddItemToObject(o, f[i].key, v)) {
            cJSON_Delete(v);
            return -1;
        }
    }
    return 0;
}
