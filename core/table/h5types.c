/* Object headers checked in the file before HDF5 1.10.8 is allowed to decode them.
 *
 * HDF5 1.10.8 (Debian 12) trusts several fields of an object header that a corrupt file can
 * make inconsistent, and then reads far past its buffers (SIGSEGV), all found by fuzz_hdf5:
 * - it copies an enumeration type's values using the enumeration's own size where it allocated
 *   them by its base type's (H5Dopen2, H5Aget_type; hdf5-datatype-2gb-alloc.h5,
 *   hdf5-attr-enum-size.h5);
 * - it decodes an attribute message's name, datatype and dataspace by the sizes in the message,
 *   even when they overrun it, and strdup()s a name that may lack its NUL (H5Aopen_by_idx;
 *   hdf5-attr-overrun.h5, hdf5-attr-name-unterminated.h5);
 * - it divides by the chunk dimensions of an old-style (version 1-2) layout message without
 *   checking them for zero (SIGFPE in H5D__chunk_set_info via H5Dopen2; hdf5-layout-fpe.h5,
 *   found by a CI fuzz pass in a fresh clone elsewhere: h5py dies on it too);
 * - it copies an enumeration's values (members x size bytes) without checking that the message
 *   holds them (SIGSEGV in memcpy via H5Dopen2; hdf5-enum-values-overrun.h5, found by CI's
 *   deterministic mutation of hdf5-datatype-2gb-alloc.h5).
 * Nothing in the API shows these before they are decoded, so pzflow reads the object's header
 * itself (format spec, "Data Object Headers"; versions 1 and 2, with continuation chunks),
 * finds the datatype message and every compact attribute message, and refuses the object when
 * one of them is inconsistent in one of these ways (enumerations nested in compounds, arrays or
 * variable-length types included).
 *
 * The walk is deliberately forgiving: whatever it cannot parse it leaves to HDF5, which reports
 * most corruption itself. It only ever refuses what it has positively seen to be inconsistent,
 * so a valid file is never refused. Attributes in dense storage (more than 8 per object with
 * libver latest) are not reached. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table/h5util.h"

enum { MSG_DATATYPE = 0x03, MSG_LAYOUT = 0x08, MSG_ATTRIBUTE = 0x0C, MSG_CONTINUATION = 0x10, MSG_SYMBOL_TABLE = 0x11 };
enum { CLASS_COMPOUND = 6, CLASS_ENUM = 8, CLASS_VLEN = 9, CLASS_ARRAY = 10 };
#define MAX_DEPTH 8    /* nesting of types within types */
#define MAX_CHUNKS 64  /* continuation chunks followed per header */
#define MAX_CHUNK (1 << 20)

typedef struct {
    const unsigned char *p;
    size_t len;
} span;

typedef struct {
    int fd;
    uint64_t file_size;
    unsigned sizeof_addr, sizeof_size;
    uint64_t conts[MAX_CHUNKS][2]; /* continuation chunks still to read: address, length */
    int nconts;
    uint64_t local_heap;           /* a group's (old-style) link-name heap, if has_local_heap */
    int has_local_heap;
    const char *bad;               /* what inconsistency was seen, NULL if none */
} header_walk;

static uint64_t le(const unsigned char *p, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width && i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Length of an encoded datatype at s (0: not understood); sets *size to the type's size and
 * w->bad when an enumeration's size differs from its base's. */
static size_t type_len(header_walk *w, span s, int depth, uint64_t *size);

/* A member or element type at s.p + off. */
static size_t inner_type(header_walk *w, span s, size_t off, int depth, uint64_t *size)
{
    if (off >= s.len) return 0;
    size_t n = type_len(w, (span){s.p + off, s.len - off}, depth + 1, size);
    return n ? off + n : 0;
}

/* NUL-terminated name at off; returns the offset just past it (padded to 8 if asked), 0 if none. */
static size_t skip_name(span s, size_t off, int padded)
{
    const unsigned char *nul = off < s.len ? memchr(s.p + off, 0, s.len - off) : NULL;
    if (!nul) return 0;
    size_t n = (size_t)(nul - (s.p + off)) + 1;
    return off + (padded ? pad8(n) : n);
}

static size_t compound_len(header_walk *w, span s, unsigned version, unsigned nmembs, uint64_t size, int depth)
{
    size_t off = 8;
    unsigned offset_bytes = 1;
    while (offset_bytes < 8 && (size >> (8 * offset_bytes))) offset_bytes++;
    for (unsigned i = 0; i < nmembs && off; i++) {
        off = skip_name(s, off, version < 3);
        if (!off) return 0;
        off += version == 1 ? 4 + 1 + 3 + 4 + 4 + 16 : version == 2 ? 4 : offset_bytes;
        uint64_t msize;
        off = inner_type(w, s, off, depth, &msize);
    }
    return off;
}

static size_t enum_len(header_walk *w, span s, unsigned version, unsigned nmembs, uint64_t size, int depth)
{
    uint64_t base = 0;
    size_t off = inner_type(w, s, 8, depth, &base);
    if (!off) return 0;
    if (base != size) w->bad = "an enumeration datatype whose size differs from its base type's";
    for (unsigned i = 0; i < nmembs && off; i++) off = skip_name(s, off, version < 3);
    if (!off) return 0;
    if (base > s.len || nmembs * base > s.len - off) { /* HDF5 copies nmembs * size bytes from here */
        w->bad = "an enumeration datatype whose values overrun their message";
        return 0;
    }
    return off + nmembs * base;
}

static size_t array_len(header_walk *w, span s, unsigned version, int depth)
{
    if (s.len < 9) return 0;
    unsigned ndims = s.p[8];
    size_t off = 9 + (version < 3 ? 3 : 0) + 4 * (size_t)ndims + (version < 3 ? 4 * (size_t)ndims : 0);
    uint64_t base;
    return inner_type(w, s, off, depth, &base);
}

static size_t type_len(header_walk *w, span s, int depth, uint64_t *size)
{
    if (depth > MAX_DEPTH || s.len < 8) return 0;
    unsigned cls = s.p[0] & 0x0f, version = s.p[0] >> 4;
    unsigned bits = (unsigned)le(s.p + 1, 3);
    *size = le(s.p + 4, 4);
    switch (cls) {
    case 0: return 12;               /* fixed-point: offset, precision */
    case 1: return 20;               /* floating-point: offset, precision, exponent and mantissa layout */
    case 2: return 10;               /* time: precision */
    case 3: case 7: return 8;        /* string, reference */
    case 4: return 12;               /* bitfield */
    case 5: return 8 + (bits & 0xff); /* opaque: tag, already padded */
    case CLASS_COMPOUND: return compound_len(w, s, version, bits & 0xffff, *size, depth);
    case CLASS_ENUM: return enum_len(w, s, version, bits & 0xffff, *size, depth);
    case CLASS_VLEN: { uint64_t base; return inner_type(w, s, 8, depth, &base); }
    case CLASS_ARRAY: return array_len(w, s, version, depth);
    default: return 0;
    }
}

static void check_type_message(header_walk *w, span s)
{
    uint64_t size;
    type_len(w, s, 0, &size);
}

/* Attribute message (format spec, "Attribute Message"): name, datatype and dataspace, each with
 * its size in the message's header, then the data. Version 1 pads each part to 8 bytes. HDF5
 * 1.10.8 trusts these sizes: a name without its NUL or parts that overrun the message make it
 * read past its buffer (found by fuzz_hdf5: hdf5-attr-name-unterminated.h5, hdf5-attr-overrun.h5). */
static void check_attribute_message(header_walk *w, span s)
{
    if (s.len < 8) return;
    unsigned version = s.p[0], flags = s.p[1];
    size_t name = le(s.p + 2, 2), type = le(s.p + 4, 2), space = le(s.p + 6, 2), off = version == 3 ? 9 : 8;
    if (version < 1 || version > 3) return; /* HDF5 refuses unknown versions itself */
    size_t pn = version == 1 ? pad8(name) : name, pt = version == 1 ? pad8(type) : type;
    size_t ps = version == 1 ? pad8(space) : space;
    if (off > s.len || pn > s.len - off || pt > s.len - off - pn || ps > s.len - off - pn - pt) {
        w->bad = "an attribute whose parts overrun their message";
        return;
    }
    if (!memchr(s.p + off, 0, name)) { /* HDF5 strdup()s the name */
        w->bad = "an attribute name without its terminating NUL";
        return;
    }
    if (!(flags & 1)) check_type_message(w, (span){s.p + off + pn, type}); /* flag 1: a shared (committed) type */
}

/* Data layout message (format spec, "Data Layout Message"), versions 1 and 2, chunked class:
 * version, dimensionality, class, 5 reserved bytes, the chunk index's address, then one 4-byte
 * size per dimension (the last is the element size). HDF5 1.10.8 divides by these sizes when it
 * opens the dataset (H5D__chunk_set_info) without checking them for zero, or for running past the
 * message (SIGFPE; hdf5-layout-fpe.h5, hdf5-layout-zero-chunk.h5). It does check the version 3
 * and 4 encodings ("chunk dimension must be positive"), so those are left to it. */
static void check_layout_message(header_walk *w, span s)
{
    enum { CLASS_CHUNKED = 2 };
    if (s.len < 3 || (s.p[0] != 1 && s.p[0] != 2) || s.p[2] != CLASS_CHUNKED) return;
    size_t ndims = s.p[1], off = 8 + w->sizeof_addr;
    if (off > s.len || ndims > (s.len - off) / 4) {
        w->bad = "a chunked layout whose chunk dimensions overrun their message";
        return;
    }
    for (size_t i = 0; i < ndims; i++)
        if (le(s.p + off + 4 * i, 4) == 0) {
            w->bad = "a chunked layout with a chunk dimension of zero";
            return;
        }
}

static void message(header_walk *w, unsigned type, unsigned flags, span s)
{
    if (flags & 0x02) return; /* shared message: the data is a reference elsewhere */
    if (type == MSG_DATATYPE) check_type_message(w, s);
    else if (type == MSG_LAYOUT) check_layout_message(w, s);
    else if (type == MSG_ATTRIBUTE) check_attribute_message(w, s);
    else if (type == MSG_SYMBOL_TABLE && s.len >= 2 * (size_t)w->sizeof_addr)
        w->local_heap = le(s.p + w->sizeof_addr, w->sizeof_addr), w->has_local_heap = 1; /* after the B-tree's */
    else if (type == MSG_CONTINUATION && s.len >= w->sizeof_addr + w->sizeof_size && w->nconts < MAX_CHUNKS) {
        w->conts[w->nconts][0] = le(s.p, w->sizeof_addr);
        w->conts[w->nconts][1] = le(s.p + w->sizeof_addr, w->sizeof_size);
        w->nconts++;
    }
}

/* Messages of a version 1 chunk: 8-byte headers { type u16, size u16, flags u8, 3 reserved }. */
static void messages_v1(header_walk *w, span s)
{
    for (size_t off = 0; off + 8 <= s.len;) {
        size_t size = le(s.p + off + 2, 2);
        if (size > s.len - off - 8) return;
        message(w, (unsigned)le(s.p + off, 2), s.p[off + 4], (span){s.p + off + 8, size});
        off += 8 + size;
    }
}

/* Messages of a version 2 chunk: { type u8, size u16, flags u8, [creation order u16] }. */
static void messages_v2(header_walk *w, span s, int with_order)
{
    size_t hdr = with_order ? 6 : 4;
    for (size_t off = 0; off + hdr <= s.len;) {
        size_t size = le(s.p + off + 1, 2);
        if (size > s.len - off - hdr) return;
        message(w, s.p[off], s.p[off + 3], (span){s.p + off + hdr, size});
        off += hdr + size;
    }
}

/* How many of `len` bytes at `addr` the file holds, at most MAX_CHUNK (a corrupt length must
 * not make the walk allocate or read more than that). */
static size_t readable(const header_walk *w, uint64_t addr, uint64_t len)
{
    if (addr >= w->file_size) return 0;
    if (len > w->file_size - addr) len = w->file_size - addr;
    return len > MAX_CHUNK ? MAX_CHUNK : (size_t)len;
}

/* Reads up to `len` bytes at `addr` into *buf (grown to fit); the bytes read. */
static size_t read_at(const header_walk *w, uint64_t addr, uint64_t len, unsigned char **buf)
{
    size_t n = readable(w, addr, len);
    if (!n) return 0;
    *buf = pz_xrealloc(*buf, n);
    ssize_t got = pread(w->fd, *buf, n, (off_t)addr);
    return got > 0 ? (size_t)got : 0;
}

/* The first chunk's messages: where they start, and how many bytes they span (0: not a header
 * this walk understands). `prefix` holds the header's first bytes. */
static uint64_t first_chunk(const unsigned char *prefix, size_t got, size_t *start, int *v2, int *with_order)
{
    *v2 = got >= 6 && memcmp(prefix, "OHDR", 4) == 0;
    if (*v2) {
        unsigned flags = prefix[5], width = 1u << (flags & 3);
        size_t off = 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
        *with_order = (flags & 0x04) != 0;
        if (off + width > got) return 0;
        *start = off + width;
        return le(prefix + off, width);
    }
    *start = 16;
    return got >= 16 && prefix[0] == 1 ? le(prefix + 8, 4) : 0;
}

static void walk_header(header_walk *w, uint64_t addr)
{
    size_t start = 0;
    int v2 = 0, with_order = 0;
    unsigned char *buf = NULL;
    size_t got = read_at(w, addr, 64, &buf);
    uint64_t len = got ? first_chunk(buf, got, &start, &v2, &with_order) : 0;
    if (len) got = read_at(w, addr, start + len, &buf);
    if (len && got > start) {
        span first = {buf + start, len < got - start ? len : got - start};
        if (v2) messages_v2(w, first, with_order);
        else messages_v1(w, first);
    }
    for (int i = 0; len && i < w->nconts && i < MAX_CHUNKS; i++) {
        size_t n = read_at(w, w->conts[i][0], w->conts[i][1], &buf);
        if (v2 && n >= 8 && memcmp(buf, "OCHK", 4) == 0) messages_v2(w, (span){buf + 4, n - 8}, with_order);
        else if (!v2 && n) messages_v1(w, (span){buf, n});
    }
    free(buf);
}

/* A group's local heap holds its link names: "HEAP", version 0, 3 reserved bytes, data segment
 * size, free-list offset (both length fields), data segment address. HDF5 1.10.8 mallocs the
 * segment's declared size and copies into the result without checking it (H5HL_protect), and
 * reads a heap at the "undefined" address (all ones) into a NULL buffer: SIGSEGV in memcpy
 * (hdf5-local-heap-undefined.h5). */
static void check_local_heap(header_walk *w)
{
    size_t need = 8 + 2 * (size_t)w->sizeof_size + w->sizeof_addr;
    uint64_t end = w->file_size;
    if (!w->has_local_heap) return;
    if (w->local_heap >= end) { /* HDF5 reads "undefined" (all ones) into a NULL buffer */
        w->bad = "a link-name heap address outside the file";
        return;
    }
    unsigned char *buf = NULL;
    if (read_at(w, w->local_heap, need, &buf) == need && memcmp(buf, "HEAP", 4) == 0) { /* else HDF5 refuses it */
        uint64_t size = le(buf + 8, w->sizeof_size), addr = le(buf + 8 + 2 * w->sizeof_size, w->sizeof_addr);
        if (size > end || addr > end - size) w->bad = "a link-name heap larger than the file";
    }
    free(buf);
}

int pz_h5_check_types(hid_t loc, const char *name, const char *path, pz_err *err)
{
    H5O_info_t oi;
    pz_h5_raw raw;
    if (pz_h5_raw_file(loc, &raw) < 0 || H5Oget_info_by_name2(loc, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        return 0; /* HDF5 will say what is wrong when the object is opened */
    header_walk w = {raw.fd, raw.size, raw.sizeof_addr, raw.sizeof_size, {{0}}, 0, 0, 0, NULL};
    walk_header(&w, oi.addr);
    if (!w.bad) check_local_heap(&w);
    if (w.bad)
        return pz_errf(err, "%s: object '%s' is corrupt: its header holds %s; HDF5 would crash reading it", path,
                       name, w.bad);
    return 0;
}
