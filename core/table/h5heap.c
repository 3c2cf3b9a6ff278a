/* Variable-length strings checked before HDF5 1.10.8 is allowed to fetch them.
 *
 * A variable-length string (h5py's `str`, our `unit` attributes) is stored as a reference
 * { uint32 length, heap collection address, uint32 object index } into a "global heap
 * collection". HDF5 1.10.8, Debian 12's version, trusts both the reference and the collection:
 * an object of padded size 0 makes its collection walk stand still forever, an object index the
 * collection lacks is read from outside the object table (SIGSEGV), and an object longer than
 * the reference's length overflows the buffer it is copied into (all found by fuzz_hdf5;
 * tests/fuzz/hdf5/). So before a variable-length read, pzflow reads the raw references itself
 * and walks each collection they name the way the library does, and refuses the file when any
 * of this would go wrong.
 *
 * The raw references come from HDF5 itself: a soft conversion registered from variable-length
 * strings to an opaque type tagged RAW_TAG does nothing, so H5Aread/H5Dread into that type
 * return the bytes as stored. The collections are read with pread on HDF5's own descriptor.
 *
 * Collection layout (HDF5 file format spec, "Global Heap"): "GCOL", version 1, 3 reserved
 * bytes, collection size (a length field: sizeof_size bytes, little-endian), then objects
 * { uint16 index, uint16 refcount, 4 reserved, length field, data padded to 8 bytes }; object 0
 * is free space and is not padded. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table/h5util.h"

#define RAW_TAG "pzflow raw vlen reference"

typedef struct {
    pz_h5_raw file;
    const char *path;
    uint64_t addr;     /* collection walked last (0: none) */
    uint64_t *objsize; /* its objects' sizes by index (< cap), UINT64_MAX when absent */
    size_t cap;        /* grown to the largest index seen: a few for attributes */
} heap_reader;

static uint64_t le(const unsigned char *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++) {
        if (i >= 8 && p[i]) return UINT64_MAX; /* does not fit: impossible in any real file */
        if (i < 8) v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static herr_t keep_raw(hid_t src, hid_t dst, H5T_cdata_t *cdata, size_t n, size_t stride, size_t bkg_stride,
                       void *buf, void *bkg, hid_t dxpl)
{
    (void)n, (void)stride, (void)bkg_stride, (void)buf, (void)bkg, (void)dxpl;
    if (cdata->command != H5T_CONV_INIT) return 0; /* CONV, FREE: the buffer already holds the raw bytes */
    if (H5Tis_variable_str(src) <= 0 || H5Tget_class(dst) != H5T_OPAQUE) return -1;
    char *tag = H5Tget_tag(dst);
    int ours = tag && strcmp(tag, RAW_TAG) == 0;
    H5free_memory(tag);
    return ours ? 0 : -1;
}

static void register_raw_conversion(void)
{
    hid_t vs = H5Tcopy(H5T_C_S1), op = H5Tcreate(H5T_OPAQUE, 16);
    H5Tset_size(vs, H5T_VARIABLE);
    H5Tset_tag(op, RAW_TAG);
    H5Tregister(H5T_PERS_SOFT, RAW_TAG, vs, op, keep_raw);
    H5Tclose(op);
    H5Tclose(vs);
}

/* Walks the collection at `addr` into r->objsize; 0, or -1 with the reason in err. */
static int walk_collection(heap_reader *r, uint64_t addr, pz_err *err)
{
    unsigned hdr = 8 + r->file.sizeof_size;
    unsigned char head[40];
    uint64_t size = 0;
    if (pread(r->file.fd, head, hdr, (off_t)addr) != (ssize_t)hdr || memcmp(head, "GCOL\1", 5) != 0)
        return pz_errf(err, "%s: a variable-length string points to byte %llu, which holds no global heap "
                            "collection (file corrupt)", r->path, (unsigned long long)addr);
    size = le(head + 8, r->file.sizeof_size);
    uint64_t end = r->file.size;
    if (size < hdr || size > end || addr > end - size)
        return pz_errf(err, "%s: the global heap collection at byte %llu claims %llu bytes, beyond the end of "
                            "the file (corrupt or truncated)", r->path, (unsigned long long)addr, (unsigned long long)size);
    unsigned char *c = pz_xmalloc(size);
    int rc = pread(r->file.fd, c, size, (off_t)addr) == (ssize_t)size ? 0 : -1;
    for (size_t i = 0; i < r->cap; i++) r->objsize[i] = UINT64_MAX;
    r->addr = 0;
    uint64_t objhdr = 8 + r->file.sizeof_size, p = hdr;
    while (rc == 0 && p < size && size - p >= objhdr) { /* a tail too small for an object is free space */
        unsigned idx = (unsigned)le(c + p, 2);
        uint64_t len = le(c + p + 8, r->file.sizeof_size);
        uint64_t need = idx == 0 ? len : len > size ? 0 : objhdr + ((len + 7) & ~(uint64_t)7);
        if (need == 0 || need > size - p) rc = -1; /* the library would stand still or run off the end */
        else if (idx) {
            if (idx >= r->cap) {
                size_t cap = idx + 1 > 2 * r->cap ? idx + 1 : 2 * r->cap;
                r->objsize = pz_xrealloc(r->objsize, cap * sizeof *r->objsize);
                for (size_t i = r->cap; i < cap; i++) r->objsize[i] = UINT64_MAX;
                r->cap = cap;
            }
            r->objsize[idx] = len;
        }
        p += need;
    }
    free(c);
    if (rc < 0)
        return pz_errf(err, "%s: corrupt global heap collection at byte %llu (an object at byte %llu has an "
                            "impossible size); HDF5 would hang or overrun reading its strings",
                       r->path, (unsigned long long)addr, (unsigned long long)(addr + p));
    r->addr = addr;
    return 0;
}

static int check_reference(heap_reader *r, const unsigned char *ref, pz_err *err)
{
    unsigned aw = r->file.sizeof_addr;
    uint64_t len = le(ref, 4), addr = le(ref + 4, aw), idx = le(ref + 4 + aw, 4);
    if (len == 0 || addr == 0) return 0; /* empty or null: the library reads nothing */
    if (addr != r->addr && walk_collection(r, addr, err) < 0) return -1;
    int held = idx < r->cap && r->objsize[idx] != UINT64_MAX;
    if (!held || r->objsize[idx] > len)
        return pz_errf(err, "%s: a variable-length string refers to object %llu of the global heap collection at "
                            "byte %llu, which %s (file corrupt)", r->path, (unsigned long long)idx,
                       (unsigned long long)addr, held ? "is longer than the string" : "does not hold it");
    return 0;
}

/* Reads `n` raw references with `read` and checks each against the file's collections. */
static int check_references(hid_t obj, const char *path, size_t n, int (*read)(hid_t type, void *buf, void *ctx),
                            void *ctx, pz_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_raw_conversion);
    heap_reader r = {{0}, path, 0, NULL, 0};
    int rc = 0;
    if (pz_h5_raw_file(obj, &r.file) < 0)
        return pz_errf(err, "%s: cannot inspect the file's variable-length strings", path);
    size_t width = 8 + r.file.sizeof_addr;
    hid_t raw = H5Tcreate(H5T_OPAQUE, width);
    H5Tset_tag(raw, RAW_TAG);
    unsigned char *refs = pz_xcalloc(n ? n : 1, width);
    if (n && read(raw, refs, ctx) < 0) rc = pz_errf(err, "%s: reading variable-length strings failed (file corrupt?)", path);
    for (size_t i = 0; i < n && rc == 0; i++) rc = check_reference(&r, refs + i * width, err);
    free(r.objsize);
    free(refs);
    H5Tclose(raw);
    return rc;
}

static int read_attr_raw(hid_t type, void *buf, void *ctx)
{
    return H5Aread(*(hid_t *)ctx, type, buf) < 0 ? -1 : 0;
}

int pz_h5_check_vlen_attr(hid_t attr, const char *path, pz_err *err)
{
    hid_t sp = H5Aget_space(attr);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    H5Sclose(sp);
    if (n < 0) return pz_errf(err, "%s: cannot read an attribute's shape (file corrupt?)", path);
    return check_references(attr, path, (size_t)n, read_attr_raw, &attr, err);
}

typedef struct {
    hid_t ds, msp, fsp;
} dataset_read;

static int read_dataset_raw(hid_t type, void *buf, void *ctx)
{
    const dataset_read *d = ctx;
    return H5Dread(d->ds, type, d->msp, d->fsp, H5P_DEFAULT, buf) < 0 ? -1 : 0;
}

int pz_h5_check_vlen_dataset(hid_t ds, hid_t msp, hid_t fsp, size_t n, const char *path, pz_err *err)
{
    dataset_read d = {ds, msp, fsp};
    return check_references(ds, path, n, read_dataset_raw, &d, err);
}
