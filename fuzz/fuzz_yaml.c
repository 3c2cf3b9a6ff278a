/* Fuzz target: the YAML tree loader, the JSON emitter and re-loading what it emitted. Every
 * pipeline, spec and schema file passes through this code. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/ytree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pz_err err;
    pz_ynode *root = pz_yaml_load_string((const char *)data, size, "fuzz.yaml", &err);
    if (!root) return 0;
    char *json = pz_yaml_to_json(root, 1, -1);
    pz_ynode *again = pz_yaml_load_string(json, strlen(json), "fuzz.json", &err);
    /* What we emit must always load again and be stable. */
    if (!again) abort();
    char *json2 = pz_yaml_to_json(again, 1, -1);
    if (strcmp(json, json2) != 0) abort();
    free(json);
    free(json2);
    pz_ynode_free(again);
    pz_ynode_free(root);
    return 0;
}
