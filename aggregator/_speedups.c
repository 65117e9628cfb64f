/* aggregator._speedups: the per-character loops of a first poll, in C.
 *
 * Each function here is an exact copy of a pure-Python (numpy) reference that stays in its stage module
 * and is what runs when this extension is not built (it is optional: see setup.py). Tests compare the two
 * bit for bit. Why C: these loops run over every character or word of every article; in Python and numpy
 * they took a worker about 140 us of its 360 us a record on the benchmark's feeds, in C about 30.
 *
 *   signature(title, text, unsegmented_language) -> (size, bins, keys) | None | NotImplemented
 *       dedupe/near.py `make_signature`: token hashes, 3-token shingles, one-permutation MinHash with
 *       optimal densification, b-bit (16) minima and the LSH band keys. NotImplemented when a text needs
 *       the exact `unicodedata` path (the caller then runs the reference).
 *   collapse_spaces(data) -> bytes
 *       b" ".join(data.split()) for data whose only whitespace is b" " (normalise/words.py).
 *   fold(text) -> (joined, chars) | None | list, learn_fold(char, kind, spaced, chars)
 *       normalise/words.py `folded_runs`: NFKC + casefold, letter/digit runs joined by single spaces, and
 *       the non-ASCII characters of the folded text. Per character, from plans that words.py computes the
 *       first time a character is met (fold returns the list of such characters; the caller teaches them
 *       with learn_fold and asks again). None: the text needs words.py's exact path.
 *   xml_clean(text) -> bool
 *       normalise/html.py: whether `text` holds none of the characters XML 1.0 forbids.
 *   html_to_text(markup, block_tags) -> str | None
 *       normalise/html.py `html_to_text` on sanitised HTML: tags out (block tags separate words), the
 *       entities nh3 writes decoded, whitespace collapsed. None for any other entity (the caller then
 *       runs the reference, which knows all of HTML's).
 *   sanitize(markup, rules, entities, link_rel, block_tags) -> (html, text) | None
 *       normalise/html.py `sanitize_html`'s nh3 call, for the simple, well-nested markup most feeds carry,
 *       with `html_to_text` of what it wrote; None for anything else (nh3 then runs). See the section's
 *       comment for what "simple" is.
 *   dfa_counts(nextmove, rowbase, output, data) -> dict | None | NotImplemented
 *       normalise/language.py: py3langid's `visit_counts` (the DFA walk over a text's bytes that is most of
 *       a language detection). NotImplemented for a model laid out otherwise (py3langid's loop then runs).
 *   token_table(tokens) -> bytes, present_tokens(joined, table, tokens) -> set
 *       classify.py: which of the keywords' words occur among the space-separated runs of `joined`,
 *       without building a bytes object per run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------ tables, set once by `init` */
#define BMP 0x10000
#define CHAR_FLAG (1ULL << 32)
#define COMPLEX_FLAG (1ULL << 33)
#define CODE_MASK (CHAR_FLAG - 1)
#define MAX_BANDS 4096
#define SPEEDUPS_VERSION 6 /* speedups.VERSION: raise both when a function or its arguments change */

static uint64_t codes_table[BMP];   /* shingles.py `_codes_table` */
static uint8_t content_table[BMP];  /* shingles.py `_content_table`: 1 when a token is not a stopword */
static uint16_t *probes = NULL;     /* near.py `_probes(permutations)`, row-major */
static int permutations = 0, shift = 0, bands = 0, rows = 0, min_shingles = 0, word_shingle = 0,
           char_shingle = 0;
static int ready = 0;

static const uint64_t BASE_INV = 0xCE965057AFF6957BULL; /* inverse of the FNV prime 0x100000001B3 mod 2**64 */
static const uint64_t SHINGLE_MUL = 0x9E3779B97F4A7C15ULL;

static inline uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ULL;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return z;
}

static int copy_buffer(PyObject *obj, void *dest, Py_ssize_t size, const char *what)
{
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return -1;
    if (view.len != size) {
        PyErr_Format(PyExc_ValueError, "%s: %zd bytes, expected %zd", what, view.len, size);
        PyBuffer_Release(&view);
        return -1;
    }
    memcpy(dest, view.buf, (size_t)size);
    PyBuffer_Release(&view);
    return 0;
}

static PyObject *init(PyObject *self, PyObject *args)
{
    PyObject *codes, *content, *probe_rows;
    int p, b, r, m, ws, cs;
    if (!PyArg_ParseTuple(args, "OOOiiiiii", &codes, &content, &probe_rows, &p, &b, &r, &m, &ws, &cs))
        return NULL;
    if (p < 2 || p > 4096 || (p & (p - 1)) || b < 1 || b > MAX_BANDS || r < 1 || r > 3 || b * r > p || ws < 1
        || cs < 1 || m < ws || m < cs) { /* m >= the shingle sizes: a signed text has a shingle */
        PyErr_SetString(PyExc_ValueError, "bad signature parameters");
        return NULL;
    }
    uint16_t *table = PyMem_Malloc(sizeof(uint16_t) * (size_t)p * (size_t)p);
    if (table == NULL)
        return PyErr_NoMemory();
    if (copy_buffer(codes, codes_table, sizeof codes_table, "codes") < 0
        || copy_buffer(content, content_table, sizeof content_table, "content") < 0
        || copy_buffer(probe_rows, table, (Py_ssize_t)(sizeof(uint16_t) * (size_t)p * (size_t)p), "probes") < 0) {
        PyMem_Free(table);
        return NULL;
    }
    PyMem_Free(probes);
    probes = table;
    permutations = p;
    shift = 64;
    while ((1 << (64 - shift)) < p)
        shift--;
    bands = b;
    rows = r;
    min_shingles = m;
    word_shingle = ws;
    char_shingle = cs;
    ready = 1;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------ growable uint64 array */
typedef struct {
    uint64_t *items;
    Py_ssize_t size, capacity;
    uint64_t inline_items[1024];
} Tokens;

static void tokens_init(Tokens *t)
{
    t->items = t->inline_items;
    t->size = 0;
    t->capacity = 1024;
}

static void tokens_free(Tokens *t)
{
    if (t->items != t->inline_items)
        PyMem_Free(t->items);
}

static int tokens_reserve(Tokens *t, Py_ssize_t more)
{
    if (t->size + more <= t->capacity)
        return 0;
    Py_ssize_t capacity = t->capacity;
    while (capacity < t->size + more)
        capacity *= 2;
    uint64_t *items = PyMem_Malloc(sizeof(uint64_t) * (size_t)capacity);
    if (items == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(items, t->items, sizeof(uint64_t) * (size_t)t->size);
    tokens_free(t);
    t->items = items;
    t->capacity = capacity;
    return 0;
}

/* One loop per string kind, so the compiler sees a plain array of fixed-width code points. */
#define TOKENISE_LOOP(TYPE)                                                     \
    do {                                                                        \
        const TYPE *chars_of = (const TYPE *)data;                             \
        for (Py_ssize_t i = 0; i < n; i++) {                                    \
            Py_UCS4 c = chars_of[i];                                            \
            uint64_t code = codes_table[c < BMP ? c : BMP - 1];                 \
            if (code == 0 || code >= CHAR_FLAG) {                               \
                if (code & COMPLEX_FLAG)                                        \
                    return 1;                                                   \
                if (in_word)                                                    \
                    items[size++] = hash;                                       \
                in_word = 0;                                                    \
                if (code) {                                                     \
                    items[size++] = code & CODE_MASK;                           \
                    singles++;                                                  \
                }                                                               \
                continue;                                                       \
            }                                                                   \
            if (!in_word) {                                                     \
                in_word = 1;                                                    \
                hash = 0;                                                       \
                power = 1;                                                      \
            }                                                                   \
            hash += code * power;                                               \
            power *= BASE_INV;                                                  \
        }                                                                       \
    } while (0)

/* shingles.py `token_hashes` (table path): appends the tokens of `text`, counts its one-character tokens.
 * Returns 1 when the text needs the exact path, -1 on error, 0 otherwise. A token's hash is
 * sum(code * BASE**-(position - start)) over its characters; a one-character token's is its code. */
static int tokenise(PyObject *text, Tokens *out, Py_ssize_t *chars)
{
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (tokens_reserve(out, n + 1) < 0) /* at most one token a character */
        return -1;
    uint64_t *items = out->items, hash = 0, power = 1;
    Py_ssize_t size = out->size, singles = 0;
    int in_word = 0;
    if (kind == PyUnicode_1BYTE_KIND)
        TOKENISE_LOOP(Py_UCS1);
    else if (kind == PyUnicode_2BYTE_KIND)
        TOKENISE_LOOP(Py_UCS2);
    else
        TOKENISE_LOOP(Py_UCS4);
    if (in_word)
        items[size++] = hash;
    out->size = size;
    *chars += singles;
    return 0;
}

/* Distinct values among the kept shingle hashes: an open-addressing set (the hashes are already mixed). */
typedef struct {
    uint64_t *slots;
    uint64_t mask;
    int has_zero;
    Py_ssize_t count;
    uint64_t inline_slots[4096];
} HashSet;

static int set_init(HashSet *s, Py_ssize_t expected)
{
    uint64_t size = 64;
    while (expected > 0 && size < (uint64_t)expected * 2)
        size <<= 1;
    s->slots = size <= 4096 ? s->inline_slots : PyMem_Malloc(sizeof(uint64_t) * size);
    if (s->slots == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memset(s->slots, 0, sizeof(uint64_t) * size);
    s->mask = size - 1;
    s->has_zero = 0;
    s->count = 0;
    return 0;
}

static void set_free(HashSet *s)
{
    if (s->slots != s->inline_slots)
        PyMem_Free(s->slots);
}

static void set_add(HashSet *s, uint64_t value)
{
    if (value == 0) {
        s->count += !s->has_zero;
        s->has_zero = 1;
        return;
    }
    uint64_t i = value & s->mask;
    while (s->slots[i]) {
        if (s->slots[i] == value)
            return;
        i = (i + 1) & s->mask;
    }
    s->slots[i] = value;
    s->count++;
}

/* near.py `_signatures` for one record's tokens: NULL with no error set when it has too few shingles. */
static PyObject *sign_tokens(const Tokens *tokens, int k)
{
    Py_ssize_t n = tokens->size, m = n - k + 1;
    const uint64_t *t = tokens->items;
    uint64_t *mins = PyMem_Malloc(sizeof(uint64_t) * (size_t)permutations);
    uint8_t *present = PyMem_Calloc((size_t)permutations, 1);
    uint16_t *bins = PyMem_Malloc(sizeof(uint16_t) * (size_t)permutations);
    uint8_t *content = NULL;
    HashSet seen;
    PyObject *result = NULL;
    if (mins == NULL || present == NULL || bins == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    content = PyMem_Malloc((size_t)n);
    if (content == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    if (set_init(&seen, m) < 0)
        goto done;
    for (int i = 0; i < permutations; i++)
        mins[i] = UINT64_MAX;
    for (Py_ssize_t i = 0; i < n; i++)
        content[i] = content_table[t[i] & 0xFFFF];
    for (Py_ssize_t i = 0; i < m; i++) {
        uint64_t acc = t[i];
        int keep = content[i];
        for (int j = 1; j < k; j++) {
            acc = acc * SHINGLE_MUL + t[i + j];
            keep |= content[i + j];
        }
        if (!keep)
            continue;
        uint64_t h = mix64(acc);
        set_add(&seen, h);
        uint64_t bin = h >> shift;
        present[bin] = 1;
        if (h < mins[bin])
            mins[bin] = h;
    }
    Py_ssize_t size = seen.count;
    set_free(&seen);
    if (size < min_shingles)
        goto done;
    for (int i = 0; i < permutations; i++) {
        int donor = i;
        if (!present[i]) {
            const uint16_t *row = probes + (size_t)i * (size_t)permutations;
            for (int j = 0; j < permutations; j++) {
                if (present[row[j]]) {
                    donor = row[j];
                    break;
                }
            }
        }
        bins[i] = (uint16_t)(mins[donor] & 0xFFFF);
    }
    int64_t keys[MAX_BANDS];
    for (int b = 0; b < bands; b++) {
        uint64_t acc = 0;
        for (int r = 0; r < rows; r++)
            acc += (uint64_t)bins[b * rows + r] << (16 * r);
        acc |= (uint64_t)b << 48;
        keys[b] = (int64_t)(mix64(acc) >> 1);
    }
    /* little-endian, as near.py stores them ("<u2", "<i8"); this code is built for little-endian hosts */
    result = Py_BuildValue("(ny#y#)", size, (const char *)bins, (Py_ssize_t)(sizeof(uint16_t) * permutations),
                           (const char *)keys, (Py_ssize_t)(sizeof(int64_t) * bands));
done:
    PyMem_Free(content);
    PyMem_Free(mins);
    PyMem_Free(present);
    PyMem_Free(bins);
    return result;
}

static PyObject *signature(PyObject *self, PyObject *args)
{
    PyObject *title, *text;
    int unsegmented_language;
    if (!PyArg_ParseTuple(args, "UUp", &title, &text, &unsegmented_language))
        return NULL;
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "_speedups.init() was not called");
        return NULL;
    }
    Tokens body, both;
    tokens_init(&body);
    tokens_init(&both);
    Tokens *tokens = &body;
    Py_ssize_t chars = 0;
    PyObject *result = NULL;
    int status = tokenise(text, &body, &chars);
    if (status == 0 && body.size < min_shingles) { /* too short: title and body, title first */
        tokens = &both;
        status = tokenise(title, &both, &chars);
        if (status == 0)
            status = tokens_reserve(&both, body.size);
        if (status == 0) {
            memcpy(both.items + both.size, body.items, sizeof(uint64_t) * (size_t)body.size);
            both.size += body.size;
        }
    }
    if (status < 0)
        goto done;
    if (status > 0) {
        result = Py_NewRef(Py_NotImplemented);
        goto done;
    }
    Py_ssize_t n = tokens->size;
    if (n < min_shingles) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    int unsegmented = chars * 2 > n || (chars * 5 > n && unsegmented_language);
    result = sign_tokens(tokens, unsegmented ? char_shingle : word_shingle);
    if (result == NULL && !PyErr_Occurred())
        result = Py_NewRef(Py_None);
done:
    tokens_free(&body);
    tokens_free(&both);
    return result;
}

/* ------------------------------------------------------------------ words */
static PyObject *collapse_spaces(PyObject *self, PyObject *arg)
{
    if (!PyBytes_Check(arg)) {
        PyErr_SetString(PyExc_TypeError, "collapse_spaces takes bytes");
        return NULL;
    }
    const char *src = PyBytes_AS_STRING(arg);
    Py_ssize_t n = PyBytes_GET_SIZE(arg);
    PyObject *out = PyBytes_FromStringAndSize(NULL, n);
    if (out == NULL)
        return NULL;
    char *dest = PyBytes_AS_STRING(out);
    Py_ssize_t j = 0;
    int pending = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = src[i];
        if (c == ' ') {
            pending = j > 0;
            continue;
        }
        if (pending) {
            dest[j++] = ' ';
            pending = 0;
        }
        dest[j++] = c;
    }
    if (_PyBytes_Resize(&out, j) < 0)
        return NULL;
    return out;
}

/* FNV-1a of a run's bytes: where a keyword word sits in the table built by `token_table`. */
static inline uint64_t fnv1a(const char *s, Py_ssize_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (Py_ssize_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= 0x100000001B3ULL;
    }
    return h;
}

/* The table: a power-of-two number of int32 slots, each -1 or an index into `tokens`. */
static PyObject *token_table(PyObject *self, PyObject *tokens)
{
    if (!PyTuple_Check(tokens)) {
        PyErr_SetString(PyExc_TypeError, "token_table takes a tuple of bytes");
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(tokens);
    if (n > INT32_MAX / 4) {
        PyErr_SetString(PyExc_ValueError, "too many tokens");
        return NULL;
    }
    Py_ssize_t size = 16;
    while (size < n * 4)
        size <<= 1;
    PyObject *table = PyBytes_FromStringAndSize(NULL, size * (Py_ssize_t)sizeof(int32_t));
    if (table == NULL)
        return NULL;
    int32_t *slots = (int32_t *)PyBytes_AS_STRING(table);
    for (Py_ssize_t i = 0; i < size; i++)
        slots[i] = -1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *token = PyTuple_GET_ITEM(tokens, i);
        if (!PyBytes_Check(token)) {
            Py_DECREF(table);
            PyErr_SetString(PyExc_TypeError, "token_table takes a tuple of bytes");
            return NULL;
        }
        uint64_t j = fnv1a(PyBytes_AS_STRING(token), PyBytes_GET_SIZE(token)) & (uint64_t)(size - 1);
        while (slots[j] >= 0)
            j = (j + 1) & (uint64_t)(size - 1);
        slots[j] = (int32_t)i;
    }
    return table;
}

static PyObject *present_tokens(PyObject *self, PyObject *args)
{
    const char *joined, *table_bytes;
    Py_ssize_t n, table_size;
    PyObject *tokens;
    if (!PyArg_ParseTuple(args, "y#y#O!", &joined, &n, &table_bytes, &table_size, &PyTuple_Type, &tokens))
        return NULL;
    Py_ssize_t size = table_size / (Py_ssize_t)sizeof(int32_t);
    if (size == 0 || (size & (size - 1))) {
        PyErr_SetString(PyExc_ValueError, "not a token table");
        return NULL;
    }
    const int32_t *slots = (const int32_t *)table_bytes;
    PyObject *found = PySet_New(NULL);
    if (found == NULL)
        return NULL;
    Py_ssize_t start = 0;
    while (start < n) {
        while (start < n && joined[start] == ' ')
            start++;
        Py_ssize_t end = start;
        while (end < n && joined[end] != ' ')
            end++;
        if (end > start) {
            uint64_t j = fnv1a(joined + start, end - start) & (uint64_t)(size - 1);
            for (int32_t index; (index = slots[j]) >= 0; j = (j + 1) & (uint64_t)(size - 1)) {
                if (index >= PyTuple_GET_SIZE(tokens))
                    break;
                PyObject *token = PyTuple_GET_ITEM(tokens, index);
                if (PyBytes_Check(token) && PyBytes_GET_SIZE(token) == end - start
                    && memcmp(PyBytes_AS_STRING(token), joined + start, (size_t)(end - start)) == 0) {
                    if (PySet_Add(found, token) < 0) {
                        Py_DECREF(found);
                        return NULL;
                    }
                    break;
                }
            }
        }
        start = end;
    }
    return found;
}

/* ------------------------------------------------------------------ folding */
enum { PLAN_UNKNOWN = 0, PLAN_SLOW = 1, PLAN_UNCHANGED = 2, PLAN_REPLACE = 3 };
#define PLAN_CHARS 8

typedef struct {
    char *spaced; /* UTF-8, ASCII letters lower-cased and ASCII separators already spaces */
    Py_ssize_t length;
    Py_UCS4 chars[PLAN_CHARS]; /* the non-ASCII characters of the folded character */
    int nchars;
} Plan;

static uint8_t plan_kind[BMP];
static int32_t plan_index[BMP];
static Plan *plans = NULL;
static Py_ssize_t plan_count = 0, plan_capacity = 0;
static char ascii_map[128]; /* lower-cased letters and digits; every other ASCII byte a space */

static void init_ascii_map(void)
{
    for (int c = 0; c < 128; c++)
        ascii_map[c] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? (char)c
                       : (c >= 'A' && c <= 'Z')                         ? (char)(c + 32)
                                                                        : ' ';
}

static PyObject *learn_fold(PyObject *self, PyObject *args)
{
    int ch; /* "C" stores an int */
    int kind;
    const char *spaced;
    Py_ssize_t length;
    PyObject *chars;
    if (!PyArg_ParseTuple(args, "Ciy#U", &ch, &kind, &spaced, &length, &chars))
        return NULL;
    if (ch < 128 || ch >= BMP || kind < PLAN_SLOW || kind > PLAN_REPLACE) {
        PyErr_SetString(PyExc_ValueError, "learn_fold: a non-ASCII BMP character and a plan kind");
        return NULL;
    }
    Py_ssize_t nchars = PyUnicode_GET_LENGTH(chars);
    if (kind == PLAN_REPLACE && nchars > PLAN_CHARS)
        kind = PLAN_SLOW; /* never seen; the exact path copes */
    if (kind == PLAN_REPLACE) {
        if (plan_count == plan_capacity) {
            Py_ssize_t capacity = plan_capacity ? plan_capacity * 2 : 256;
            Plan *grown = PyMem_Realloc(plans, sizeof(Plan) * (size_t)capacity);
            if (grown == NULL)
                return PyErr_NoMemory();
            plans = grown;
            plan_capacity = capacity;
        }
        Plan *plan = &plans[plan_count];
        plan->spaced = PyMem_Malloc((size_t)length + 1);
        if (plan->spaced == NULL)
            return PyErr_NoMemory();
        for (Py_ssize_t i = 0; i < length; i++) {
            unsigned char b = (unsigned char)spaced[i];
            plan->spaced[i] = b < 128 ? ascii_map[b] : (char)b;
        }
        plan->length = length;
        plan->nchars = (int)nchars;
        for (Py_ssize_t i = 0; i < nchars; i++)
            plan->chars[i] = PyUnicode_READ_CHAR(chars, i);
        plan_index[ch] = (int32_t)plan_count++;
    }
    plan_kind[ch] = (uint8_t)kind;
    Py_RETURN_NONE;
}

typedef struct {
    char *data;
    Py_ssize_t size, capacity;
    int after_space; /* the last byte written was a space (or nothing is written yet) */
} Out;

/* Room for `more` items of `item` bytes after `size` in a buffer that doubles as it grows: *data may move. */
static void *grown_buffer(void *data, Py_ssize_t *capacity, Py_ssize_t size, Py_ssize_t more, size_t item)
{
    if (size + more <= *capacity)
        return data;
    Py_ssize_t wanted = *capacity * 2 + more + 64;
    void *grown = PyMem_Realloc(data, item * (size_t)wanted);
    if (grown == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *capacity = wanted;
    return grown;
}

static int out_reserve(Out *o, Py_ssize_t more)
{
    char *data = grown_buffer(o->data, &o->capacity, o->size, more, 1);
    if (data == NULL)
        return -1;
    o->data = data;
    return 0;
}

/* One byte of spaced text, without a branch: a space right after a space (or at the start) is written
 * but not kept. Runs come out joined by single spaces; `fold` drops the one trailing space. */
static inline void out_byte(Out *o, char b)
{
    int space = b == ' ';
    o->data[o->size] = b;
    o->size += !(space & o->after_space);
    o->after_space = space;
}

static void out_utf8(Out *o, Py_UCS4 c)
{
    if (c < 0x800) {
        o->data[o->size++] = (char)(0xC0 | (c >> 6));
    } else {
        o->data[o->size++] = (char)(0xE0 | (c >> 12));
        o->data[o->size++] = (char)(0x80 | ((c >> 6) & 0x3F));
    }
    o->data[o->size++] = (char)(0x80 | (c & 0x3F));
    o->after_space = 0;
}

static PyObject *fold(PyObject *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "fold takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    PyObject *unknown = NULL, *result = NULL;
    /* the distinct non-ASCII characters of the folded text, in a bitmap and a list (static: the GIL is
     * held throughout, as it is while the plans are learnt) */
    static uint8_t seen[BMP / 8];
    Py_UCS4 *chars = NULL;
    Py_ssize_t nchars = 0, chars_capacity = 0;
    /* a character adds at most 3 bytes, or 1 and a space that the separator before it did not add; a
     * replacement reserves its own length */
    Out out = {PyMem_Malloc((size_t)n * 3 + 16), 0, n * 3 + 16, 1};
    if (out.data == NULL)
        return PyErr_NoMemory();
    memset(seen, 0, sizeof seen);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = kind == PyUnicode_1BYTE_KIND ? ((const Py_UCS1 *)data)[i]
                    : kind == PyUnicode_2BYTE_KIND ? ((const Py_UCS2 *)data)[i] : ((const Py_UCS4 *)data)[i];
        if (c < 128) {
            /* out_byte with the state in registers: stores through a char pointer may alias `out` */
            char *dest = out.data;
            Py_ssize_t size = out.size;
            int after_space = out.after_space;
            for (;;) {
                char b = ascii_map[c];
                int space = b == ' ';
                dest[size] = b;
                size += !(space & after_space);
                after_space = space;
                if (++i == n)
                    break;
                c = kind == PyUnicode_1BYTE_KIND ? ((const Py_UCS1 *)data)[i]
                    : kind == PyUnicode_2BYTE_KIND ? ((const Py_UCS2 *)data)[i] : ((const Py_UCS4 *)data)[i];
                if (c >= 128)
                    break;
            }
            out.size = size;
            out.after_space = after_space;
            if (i == n)
                break;
        }
        if (c >= BMP || (c >= 0xD800 && c < 0xE000)) /* astral or a lone surrogate: the exact path */
            goto slow;
        int plan = plan_kind[c];
        if (plan == PLAN_UNKNOWN) {
            if (unknown == NULL && (unknown = PyList_New(0)) == NULL)
                goto error;
            PyObject *ch = PyUnicode_FromOrdinal((int)c);
            if (ch == NULL || PyList_Append(unknown, ch) < 0) {
                Py_XDECREF(ch);
                goto error;
            }
            Py_DECREF(ch);
            continue;
        }
        if (unknown != NULL)
            continue; /* only listing what to learn now */
        if (plan == PLAN_SLOW)
            goto slow;
        const Py_UCS4 *adds = &c;
        int nadds = 1;
        if (plan == PLAN_UNCHANGED) {
            out_utf8(&out, c);
        } else {
            const Plan *p = &plans[plan_index[c]];
            if (out_reserve(&out, p->length + 1 + 3 * (n - i)) < 0) /* and room for the rest, as above */
                goto error;
            for (Py_ssize_t j = 0; j < p->length; j++)
                out_byte(&out, p->spaced[j]);
            adds = p->chars;
            nadds = p->nchars;
        }
        for (int j = 0; j < nadds; j++) {
            Py_UCS4 a = adds[j];
            if (a < BMP && (seen[a >> 3] >> (a & 7)) & 1)
                continue;
            if (a < BMP)
                seen[a >> 3] |= (uint8_t)(1 << (a & 7));
            else
                for (Py_ssize_t k = 0; k < nchars; k++)
                    if (chars[k] == a)
                        goto next_add;
            if (nchars == chars_capacity) {
                chars_capacity = chars_capacity ? chars_capacity * 2 : 64;
                Py_UCS4 *grown = PyMem_Realloc(chars, sizeof(Py_UCS4) * (size_t)chars_capacity);
                if (grown == NULL) {
                    PyErr_NoMemory();
                    goto error;
                }
                chars = grown;
            }
            chars[nchars++] = a;
        next_add:;
        }
        }
    if (unknown != NULL) {
        /* each unknown character once */
        PyObject *distinct = PyFrozenSet_New(unknown);
        Py_DECREF(unknown);
        unknown = NULL;
        if (distinct == NULL)
            goto error;
        result = PySequence_List(distinct);
        Py_DECREF(distinct);
        goto done;
    }
    if (out.size > 0 && out.data[out.size - 1] == ' ')
        out.size--;
    PyObject *joined = PyBytes_FromStringAndSize(out.data, out.size);
    PyObject *char_set = PyFrozenSet_New(NULL);
    if (joined == NULL || char_set == NULL) {
        Py_XDECREF(joined);
        Py_XDECREF(char_set);
        goto error;
    }
    for (Py_ssize_t k = 0; k < nchars; k++) {
        PyObject *ch = PyUnicode_FromOrdinal((int)chars[k]);
        if (ch == NULL || PySet_Add(char_set, ch) < 0) {
            Py_XDECREF(ch);
            Py_DECREF(joined);
            Py_DECREF(char_set);
            goto error;
        }
        Py_DECREF(ch);
    }
    result = PyTuple_Pack(2, joined, char_set);
    Py_DECREF(joined);
    Py_DECREF(char_set);
    goto done;
slow:
    Py_XDECREF(unknown);
    unknown = NULL;
    result = Py_NewRef(Py_None);
    goto done;
error:
    Py_XDECREF(unknown);
    result = NULL;
done:
    PyMem_Free(out.data);
    PyMem_Free(chars);
    return result;
}

/* ------------------------------------------------------------------ sanitised HTML */
static inline int xml_forbidden(Py_UCS4 c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0xD800 && c < 0xE000) || c == 0xFFFE
           || c == 0xFFFF;
}

static PyObject *xml_clean(PyObject *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "xml_clean takes a str");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    for (Py_ssize_t i = 0; i < n; i++)
        if (xml_forbidden(PyUnicode_READ(kind, data, i)))
            Py_RETURN_FALSE;
    Py_RETURN_TRUE;
}

/* The block tag names, from the frozenset html.py passes (kept while it passes the same object). */
#define MAX_BLOCK_TAGS 64
#define MAX_TAG_NAME 16
static PyObject *block_tags_seen = NULL;
static char block_names[MAX_BLOCK_TAGS][MAX_TAG_NAME];
static int block_count = 0;

static int learn_block_tags(PyObject *block_tags)
{
    if (block_tags == block_tags_seen)
        return 0;
    if (PySet_GET_SIZE(block_tags) > MAX_BLOCK_TAGS) {
        PyErr_SetString(PyExc_ValueError, "too many block tags");
        return -1;
    }
    PyObject *iterator = PyObject_GetIter(block_tags), *item;
    if (iterator == NULL)
        return -1;
    int count = 0;
    while ((item = PyIter_Next(iterator)) != NULL) {
        Py_ssize_t length;
        const char *name = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &length) : NULL;
        if (name == NULL || length < 1 || length >= MAX_TAG_NAME) {
            Py_DECREF(item);
            Py_DECREF(iterator);
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "block tags: short str names");
            return -1;
        }
        memcpy(block_names[count], name, (size_t)length + 1);
        count++;
        Py_DECREF(item);
    }
    Py_DECREF(iterator);
    if (PyErr_Occurred())
        return -1;
    block_count = count;
    Py_XSETREF(block_tags_seen, Py_NewRef(block_tags));
    return 0;
}

/* Whether chars[start:end) (a tag's name, lower case as nh3 writes it) is a block tag. */
static int is_block_tag(const Py_UCS4 *chars, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t length = end - start;
    if (length < 1 || length >= MAX_TAG_NAME)
        return 0;
    for (int t = 0; t < block_count; t++) {
        const char *name = block_names[t];
        Py_ssize_t k = 0;
        while (k < length && name[k] && (Py_UCS4)(unsigned char)name[k] == chars[start + k])
            k++;
        if (k == length && name[k] == 0)
            return 1;
    }
    return 0;
}

static inline int is_space(Py_UCS4 c)
{
    return c < 128 ? (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F)) : Py_UNICODE_ISSPACE(c);
}

static PyObject *html_to_text(PyObject *self, PyObject *args)
{
    PyObject *markup, *block_tags;
    if (!PyArg_ParseTuple(args, "UO!", &markup, &PyFrozenSet_Type, &block_tags))
        return NULL;
    if (learn_block_tags(block_tags) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(markup);
    Py_UCS4 *in = PyUnicode_AsUCS4Copy(markup); /* one fixed-width array, whatever the string's kind */
    if (in == NULL)
        return NULL;
    Py_UCS4 *out = PyMem_Malloc(sizeof(Py_UCS4) * (size_t)(n + 1));
    if (out == NULL) {
        PyMem_Free(in);
        return PyErr_NoMemory();
    }
    Py_ssize_t size = 0;
    int space = 0; /* a separator since the last character written */
    PyObject *result = NULL;
    static const struct {
        const char *name;
        Py_UCS4 value;
    } entities[] = {
        {"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"#39;", '\''}, {"nbsp;", 0xA0},
    };
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = in[i];
        if (c == '<') {
            Py_ssize_t close = i + 1;
            while (close < n && in[close] != '>' && in[close] != '<')
                close++;
            if (close < n && in[close] == '<') { /* "<" inside a tag: not what nh3 writes, the reference decides */
                result = Py_NewRef(Py_None);
                goto done;
            }
            if (close < n) { /* a tag: `<[^>]*>` */
                Py_ssize_t start = i + 1 < close && in[i + 1] == '/' ? i + 2 : i + 1;
                Py_ssize_t end = start;
                while (end < close && in[end] != '/' && !is_space(in[end]))
                    end++;
                space |= is_block_tag(in, start, end);
                i = close;
                continue;
            }
        } else if (c == '&') {
            int matched = 0;
            for (size_t e = 0; e < sizeof entities / sizeof entities[0] && !matched; e++) {
                const char *name = entities[e].name;
                Py_ssize_t length = (Py_ssize_t)strlen(name), k = 0;
                if (i + 1 + length > n)
                    continue;
                while (k < length && in[i + 1 + k] == (Py_UCS4)(unsigned char)name[k])
                    k++;
                if (k == length) {
                    c = entities[e].value;
                    i += length;
                    matched = 1;
                }
            }
            if (!matched) { /* another entity, or a bare "&": the reference decides */
                result = Py_NewRef(Py_None);
                goto done;
            }
        }
        if (is_space(c)) {
            space = 1;
            continue;
        }
        if (space && size > 0)
            out[size++] = ' ';
        space = 0;
        out[size++] = c;
    }
    result = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, size);
done:
    PyMem_Free(in);
    PyMem_Free(out);
    return result;
}

/* ------------------------------------------------------------------ sanitising the simple HTML of most feeds
 *
 * normalise/html.py `sanitize_html` runs nh3 (ammonia: html5ever parses, a DOM is cleaned, then serialised).
 * Most feed HTML is already the simple, well-nested markup that ammonia gives back almost unchanged; for
 * that markup this writes what ammonia writes, and for anything else it returns None and nh3 runs. "Simple":
 * lower- or upper-case tags from the table below (and allowed by html.py), every element closed by its own
 * end tag in order, none of the HTML5 tree builder's implied closings (a block inside a <p>, an <li> in an
 * open <li>, a heading in a heading, a formatting element inside itself), quoted attributes, absolute
 * http(s) URLs in href/src, entities that end in ";", no comments, no CR, no C0/C1 controls. What ammonia
 * does to such markup: entities decoded; text escaped (& < > and no-break space); attributes outside the
 * tag's allowed set dropped, the rest re-quoted (& < > " and no-break space escaped); <a> gets a rel
 * attribute last; void tags written without "/". tests/test_speedups.py compares this with nh3. */
enum { K_BLOCK = 1, K_FORMAT = 2, K_VOID = 4, K_LIST = 8, K_ITEM = 16, K_HEADING = 32, K_PARA = 64 };
#define SAN_MAX_TAG 12
#define SAN_MAX_ATTRS 8
#define SAN_MAX_DEPTH 64
typedef struct {
    const char *name;
    int kind;
    PyObject *attrs; /* frozenset of the attribute names kept, from html.py; NULL: the tag is not allowed */
} SimpleTag;
static SimpleTag simple_tags[] = {
    {"p", K_BLOCK | K_PARA, NULL}, {"div", K_BLOCK, NULL}, {"blockquote", K_BLOCK, NULL},
    {"ul", K_BLOCK | K_LIST, NULL}, {"ol", K_BLOCK | K_LIST, NULL}, {"li", K_BLOCK | K_ITEM, NULL},
    {"figure", K_BLOCK, NULL}, {"figcaption", K_BLOCK, NULL}, {"h1", K_BLOCK | K_HEADING, NULL},
    {"h2", K_BLOCK | K_HEADING, NULL}, {"h3", K_BLOCK | K_HEADING, NULL}, {"h4", K_BLOCK | K_HEADING, NULL},
    {"h5", K_BLOCK | K_HEADING, NULL}, {"h6", K_BLOCK | K_HEADING, NULL}, {"hr", K_BLOCK | K_VOID, NULL},
    {"br", K_VOID, NULL}, {"img", K_VOID, NULL}, {"a", K_FORMAT, NULL}, {"b", K_FORMAT, NULL},
    {"strong", K_FORMAT, NULL}, {"em", K_FORMAT, NULL}, {"i", K_FORMAT, NULL}, {"u", K_FORMAT, NULL},
    {"s", K_FORMAT, NULL}, {"small", K_FORMAT, NULL}, {"code", K_FORMAT, NULL}, {"span", 0, NULL},
    {"abbr", 0, NULL}, {"cite", 0, NULL}, {"q", 0, NULL}, {"sub", 0, NULL}, {"sup", 0, NULL},
    {"mark", 0, NULL}, {"time", 0, NULL}, {"del", 0, NULL}, {"ins", 0, NULL},
};
#define SIMPLE_TAG_COUNT ((int)(sizeof simple_tags / sizeof simple_tags[0]))
static PyObject *san_rules_seen = NULL, *san_entities = NULL, *san_link_rel = NULL;

static int learn_sanitize_rules(PyObject *rules, PyObject *entities, PyObject *link_rel)
{
    if (rules == san_rules_seen && entities == san_entities && link_rel == san_link_rel)
        return 0;
    for (int t = 0; t < SIMPLE_TAG_COUNT; t++) {
        PyObject *attrs = PyDict_GetItemString(rules, simple_tags[t].name); /* borrowed */
        if (attrs != NULL && !PyFrozenSet_Check(attrs)) {
            PyErr_SetString(PyExc_TypeError, "sanitize rules: tag -> frozenset of attribute names");
            return -1;
        }
        Py_XINCREF(attrs);
        Py_XSETREF(simple_tags[t].attrs, attrs);
    }
    Py_XSETREF(san_rules_seen, Py_NewRef(rules));
    Py_XSETREF(san_entities, Py_NewRef(entities));
    Py_XSETREF(san_link_rel, Py_NewRef(link_rel));
    return 0;
}

typedef struct {
    Py_UCS4 *data;
    Py_ssize_t size, capacity;
} Chars;

static inline int chars_reserve(Chars *o, Py_ssize_t more)
{
    if (o->size + more <= o->capacity)
        return 0;
    Py_UCS4 *data = grown_buffer(o->data, &o->capacity, o->size, more, sizeof(Py_UCS4));
    if (data == NULL)
        return -1;
    o->data = data;
    return 0;
}

static int chars_ascii(Chars *o, const char *s)
{
    Py_ssize_t n = (Py_ssize_t)strlen(s);
    if (chars_reserve(o, n) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        o->data[o->size++] = (Py_UCS4)(unsigned char)s[i];
    return 0;
}

/* The plain text of the markup being written, as normalise/html.py `html_to_text` would read it back:
 * block tags separate words, whitespace runs are one space, none at either end. Each character written
 * consumes at least one of the input's (a space only follows consumed whitespace or a tag), so a buffer
 * as long as the input always has room. */
typedef struct {
    Chars chars;
    int space;
} Text;

static inline void text_put(Text *t, Py_UCS4 c)
{
    if (c < 128 ? (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F)) : Py_UNICODE_ISSPACE(c)) {
        t->space = 1;
        return;
    }
    if (t->space && t->chars.size > 0)
        t->chars.data[t->chars.size++] = ' ';
    t->space = 0;
    t->chars.data[t->chars.size++] = c;
}

static void text_put_all(Text *t, const Py_UCS4 *s, Py_ssize_t n)
{
    for (Py_ssize_t k = 0; k < n; k++)
        text_put(t, s[k]);
}

/* A character html5ever passes through unchanged, and that this code may write: no controls but tab and
 * newline (CR is normalised by HTML's input stream), no C1 controls, no noncharacters, no surrogates. */
static inline int san_plain_char(Py_UCS4 c)
{
    if (c < 0x20)
        return c == '\t' || c == '\n';
    if (c >= 0x7F && c < 0xA0)
        return 0;
    if (c >= 0xD800 && c < 0xE000)
        return 0;
    if ((c >= 0xFDD0 && c < 0xFDF0) || (c & 0xFFFE) == 0xFFFE)
        return 0;
    return c <= 0x10FFFF;
}

static inline int is_ascii_alpha(Py_UCS4 c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int is_ascii_alnum(Py_UCS4 c) { return is_ascii_alpha(c) || (c >= '0' && c <= '9'); }
static inline Py_UCS4 ascii_lower(Py_UCS4 c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Decode the character reference at in[*i] ("&"), appending its characters to `to`. Returns 1 when done
 * (with *i on the reference's last character), 0 when the reference is one this code leaves to nh3, -1 on
 * a Python error. A "&" that starts no reference is itself. */
static int san_reference(const Py_UCS4 *in, Py_ssize_t n, Py_ssize_t *i, Chars *to)
{
    Py_ssize_t j = *i + 1;
    if (j >= n || (in[j] != '#' && !is_ascii_alnum(in[j]))) {
        if (chars_reserve(to, 1) < 0)
            return -1;
        to->data[to->size++] = '&';
        return 1;
    }
    if (in[j] == '#') {
        j++;
        int hex = j < n && (in[j] == 'x' || in[j] == 'X');
        j += hex;
        Py_UCS4 value = 0;
        int digits = 0;
        for (; j < n && digits <= 8; j++, digits++) {
            Py_UCS4 c = in[j], d;
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
                d = (c | 0x20) - 'a' + 10;
            else
                break;
            value = value * (hex ? 16 : 10) + d;
        }
        if (digits == 0 || digits > 8 || j >= n || in[j] != ';' || !san_plain_char(value))
            return 0;
        if (chars_reserve(to, 1) < 0)
            return -1;
        to->data[to->size++] = value;
        *i = j;
        return 1;
    }
    Py_ssize_t start = j;
    while (j < n && j - start <= 32 && is_ascii_alnum(in[j]))
        j++;
    if (j >= n || in[j] != ';' || j - start > 32)
        return 0; /* without ";" HTML matches legacy names by prefix ("&copy2" is "©2"): nh3 knows them */
    char name[40];
    for (Py_ssize_t k = start; k <= j; k++)
        name[k - start] = (char)in[k];
    name[j - start + 1] = 0;
    PyObject *value = PyDict_GetItemString(san_entities, name); /* borrowed; "name;" keys of html5 */
    if (value == NULL || !PyUnicode_Check(value))
        return 0;
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    if (chars_reserve(to, length) < 0)
        return -1;
    for (Py_ssize_t k = 0; k < length; k++) {
        Py_UCS4 c = PyUnicode_READ_CHAR(value, k);
        if (!san_plain_char(c))
            return 0;
        to->data[to->size++] = c;
    }
    *i = j;
    return 1;
}

/* Escape as html5ever's serialiser does: text escapes & < > and U+00A0; attribute values also '"'. */
static int san_escaped(Chars *out, const Py_UCS4 *s, Py_ssize_t n, int attribute)
{
    if (chars_reserve(out, n * 6) < 0)
        return -1;
    for (Py_ssize_t k = 0; k < n; k++) {
        Py_UCS4 c = s[k];
        const char *entity = c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == 0xA0 ? "&nbsp;"
                           : (c == '"' && attribute) ? "&quot;" : NULL;
        if (entity == NULL) {
            out->data[out->size++] = c;
            continue;
        }
        while (*entity)
            out->data[out->size++] = (Py_UCS4)(unsigned char)*entity++;
    }
    return 0;
}

/* An absolute URL that ammonia keeps exactly as it is: url::Url parses it and its scheme is allowed. Kept
 * narrow on purpose (lower-case http(s), a lower-case DNS name whose last label starts with a letter, no
 * punycode, a port up to 65535, then printable ASCII that the URL parser never rejects); any other URL
 * goes to nh3 (relative ones are rewritten against the base there). */
static int san_stable_url(const Py_UCS4 *v, Py_ssize_t n)
{
    Py_ssize_t i;
    if (n > 8 && v[0] == 'h' && v[1] == 't' && v[2] == 't' && v[3] == 'p' && v[4] == 's' && v[5] == ':'
        && v[6] == '/' && v[7] == '/')
        i = 8;
    else if (n > 7 && v[0] == 'h' && v[1] == 't' && v[2] == 't' && v[3] == 'p' && v[4] == ':' && v[5] == '/'
             && v[6] == '/')
        i = 7;
    else
        return 0;
    Py_ssize_t label = i;
    for (;; i++) {
        Py_UCS4 c = i < n ? v[i] : '/';
        if (c == '.' || c == ':' || c == '/' || c == '?' || c == '#') {
            Py_ssize_t length = i - label;
            if (length == 0 || v[label] == '-' || v[i - 1] == '-')
                return 0;
            if (length >= 4 && v[label] == 'x' && v[label + 1] == 'n' && v[label + 2] == '-' && v[label + 3] == '-')
                return 0;
            if (c != '.') {
                if (!(v[label] >= 'a' && v[label] <= 'z'))
                    return 0; /* a last label of digits would be read as an IPv4 address */
                break;
            }
            label = i + 1;
        } else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
            return 0;
        }
    }
    if (i < n && v[i] == ':') {
        long port = 0;
        Py_ssize_t start = ++i;
        while (i < n && v[i] >= '0' && v[i] <= '9' && i - start < 5)
            port = port * 10 + (long)(v[i++] - '0');
        if (i == start || port > 65535 || (i < n && v[i] != '/' && v[i] != '?' && v[i] != '#'))
            return 0;
    }
    for (; i < n; i++) {
        Py_UCS4 c = v[i];
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' || c == '`'
            || c == '{' || c == '|' || c == '}')
            return 0;
    }
    return 1;
}

static int san_find_tag(const Py_UCS4 *name, Py_ssize_t length)
{
    if (length < 1 || length >= SAN_MAX_TAG)
        return -1;
    for (int t = 0; t < SIMPLE_TAG_COUNT; t++) {
        const char *s = simple_tags[t].name;
        Py_ssize_t k = 0;
        while (k < length && s[k] && (Py_UCS4)(unsigned char)s[k] == name[k])
            k++;
        if (k == length && s[k] == 0)
            return simple_tags[t].attrs != NULL ? t : -1;
    }
    return -1;
}

/* 1: in[*i] ("<") starts a tag this code handles, written to `out`, *i on its ">"; 0: leave it to nh3. */
static int san_tag(const Py_UCS4 *in, Py_ssize_t n, Py_ssize_t *pos, Chars *out, int *stack, int *depth,
                   Chars *value, Text *text)
{
    Py_ssize_t i = *pos + 1;
    int end = in[i] == '/';
    i += end;
    Py_UCS4 name[SAN_MAX_TAG];
    Py_ssize_t length = 0;
    while (i < n && is_ascii_alnum(in[i])) {
        if (length >= SAN_MAX_TAG - 1)
            return 0;
        name[length++] = ascii_lower(in[i++]);
    }
    int t = san_find_tag(name, length);
    if (t < 0 || i >= n)
        return 0;
    int kind = simple_tags[t].kind;
    if (is_block_tag(name, 0, length))
        text->space = 1;
    if (end) {
        if (in[i] != '>' || (kind & K_VOID) || *depth == 0 || stack[*depth - 1] != t)
            return 0;
        (*depth)--;
        if (chars_ascii(out, "</") < 0 || chars_ascii(out, simple_tags[t].name) < 0 || chars_ascii(out, ">") < 0)
            return -1;
        *pos = i;
        return 1;
    }
    /* the tree builder's implied closings and reparentings: none may apply */
    for (int d = *depth - 1; d >= 0; d--) {
        int open = simple_tags[stack[d]].kind;
        if (((kind & K_BLOCK) && (open & K_PARA)) || ((kind & K_HEADING) && (open & K_HEADING))
            || ((kind & K_FORMAT) && stack[d] == t))
            return 0;
    }
    if (kind & K_ITEM) {
        for (int d = *depth - 1; d >= 0; d--) {
            int open = simple_tags[stack[d]].kind;
            if (open & K_LIST)
                break;
            if (open & K_ITEM)
                return 0;
        }
    }
    if (chars_ascii(out, "<") < 0 || chars_ascii(out, simple_tags[t].name) < 0)
        return -1;
    Py_UCS4 seen[SAN_MAX_ATTRS][SAN_MAX_TAG];
    Py_ssize_t seen_length[SAN_MAX_ATTRS];
    int attributes = 0;
    for (;;) {
        int spaced = 0;
        while (i < n && (in[i] == ' ' || in[i] == '\t' || in[i] == '\n')) {
            i++;
            spaced = 1;
        }
        if (i >= n)
            return 0;
        if (in[i] == '>')
            break;
        if (in[i] == '/') {
            if (!(kind & K_VOID) || i + 1 >= n || in[i + 1] != '>')
                return 0;
            i++;
            break;
        }
        if (!spaced || !is_ascii_alpha(in[i]) || attributes >= SAN_MAX_ATTRS)
            return 0;
        Py_UCS4 *attr = seen[attributes];
        Py_ssize_t attr_length = 0;
        while (i < n && (is_ascii_alnum(in[i]) || in[i] == '-')) {
            if (attr_length >= SAN_MAX_TAG - 1)
                return 0;
            attr[attr_length++] = ascii_lower(in[i++]);
        }
        for (int a = 0; a < attributes; a++)
            if (seen_length[a] == attr_length && memcmp(seen[a], attr, sizeof(Py_UCS4) * (size_t)attr_length) == 0)
                return 0; /* a repeated attribute: HTML keeps the first */
        seen_length[attributes++] = attr_length;
        if (i + 1 >= n || in[i] != '=' || (in[i + 1] != '"' && in[i + 1] != '\''))
            return 0;
        Py_UCS4 quote = in[i + 1];
        i += 2;
        value->size = 0;
        for (; i < n && in[i] != quote; i++) {
            Py_UCS4 c = in[i];
            if (c == '&') {
                int r = san_reference(in, n, &i, value);
                if (r <= 0)
                    return r;
            } else if (!san_plain_char(c)) {
                return 0;
            } else {
                if (chars_reserve(value, 1) < 0)
                    return -1;
                value->data[value->size++] = c;
            }
        }
        if (i >= n)
            return 0;
        i++; /* past the closing quote, which must be followed by a space, "/" or ">" */
        if (i >= n || !(in[i] == ' ' || in[i] == '\t' || in[i] == '\n' || in[i] == '/' || in[i] == '>'))
            return 0;
        char ascii_name[SAN_MAX_TAG];
        for (Py_ssize_t k = 0; k <= attr_length; k++)
            ascii_name[k] = k < attr_length ? (char)attr[k] : 0;
        PyObject *key = PyUnicode_FromString(ascii_name);
        if (key == NULL)
            return -1;
        int kept = PySet_Contains(simple_tags[t].attrs, key);
        Py_DECREF(key);
        if (kept < 0)
            return -1;
        if (!kept)
            continue;
        if ((strcmp(ascii_name, "href") == 0 || strcmp(ascii_name, "src") == 0)
            && !san_stable_url(value->data, value->size))
            return 0;
        if (chars_ascii(out, " ") < 0 || chars_ascii(out, ascii_name) < 0 || chars_ascii(out, "=\"") < 0
            || san_escaped(out, value->data, value->size, 1) < 0 || chars_ascii(out, "\"") < 0)
            return -1;
    }
    if (strcmp(simple_tags[t].name, "a") == 0) {
        Py_ssize_t rel_length = PyUnicode_GET_LENGTH(san_link_rel);
        if (chars_ascii(out, " rel=\"") < 0 || chars_reserve(out, rel_length * 6) < 0)
            return -1;
        for (Py_ssize_t k = 0; k < rel_length; k++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(san_link_rel, k);
            if (!(is_ascii_alnum(c) || c == ' ' || c == '-'))
                return 0;
            out->data[out->size++] = c;
        }
        if (chars_ascii(out, "\"") < 0)
            return -1;
    }
    if (chars_ascii(out, ">") < 0)
        return -1;
    if (!(kind & K_VOID)) {
        if (*depth >= SAN_MAX_DEPTH)
            return 0;
        stack[(*depth)++] = t;
    }
    *pos = i;
    return 1;
}

static PyObject *sanitize(PyObject *self, PyObject *args)
{
    PyObject *markup, *rules, *entities, *link_rel, *block_tags;
    if (!PyArg_ParseTuple(args, "UO!O!UO!", &markup, &PyDict_Type, &rules, &PyDict_Type, &entities, &link_rel,
                          &PyFrozenSet_Type, &block_tags))
        return NULL;
    if (learn_sanitize_rules(rules, entities, link_rel) < 0 || learn_block_tags(block_tags) < 0)
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(markup);
    Py_UCS4 *in = PyUnicode_AsUCS4Copy(markup);
    if (in == NULL)
        return NULL;
    Chars out = {NULL, 0, 0}, value = {NULL, 0, 0};
    Text text = {{NULL, 0, 0}, 0};
    int stack[SAN_MAX_DEPTH], depth = 0, r = 1;
    PyObject *result = NULL;
    if (chars_reserve(&out, n + n / 8 + 16) < 0 || chars_reserve(&text.chars, n + 1) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n && r == 1; i++) {
        Py_UCS4 c = in[i];
        if (c > 0x20 && c < 0x7F && c != '<' && c != '&' && c != '>') { /* most characters: a run of them */
            Py_ssize_t end = i + 1;
            while (end < n && in[end] > 0x20 && in[end] < 0x7F && in[end] != '<' && in[end] != '&' && in[end] != '>')
                end++;
            Py_ssize_t run = end - i;
            if (chars_reserve(&out, run) < 0) {
                r = -1;
                break;
            }
            memcpy(out.data + out.size, in + i, sizeof(Py_UCS4) * (size_t)run);
            out.size += run;
            if (text.space && text.chars.size > 0)
                text.chars.data[text.chars.size++] = ' ';
            text.space = 0;
            memcpy(text.chars.data + text.chars.size, in + i, sizeof(Py_UCS4) * (size_t)run);
            text.chars.size += run;
            i = end - 1;
            continue;
        }
        if (c == ' ') {
            if (chars_reserve(&out, 1) < 0) {
                r = -1;
                break;
            }
            out.data[out.size++] = ' ';
            text.space = 1;
            continue;
        }
        if (c == '<') {
            Py_UCS4 next = i + 1 < n ? in[i + 1] : 0;
            if (is_ascii_alpha(next) || next == '/')
                r = san_tag(in, n, &i, &out, stack, &depth, &value, &text);
            else if (next == '!' || next == '?')
                r = 0; /* comments, declarations, processing instructions: nh3 */
            else { /* "<" not starting a tag is text */
                r = san_escaped(&out, &c, 1, 0) < 0 ? -1 : 1;
                text_put(&text, c);
            }
        } else if (c == '&') {
            value.size = 0;
            r = san_reference(in, n, &i, &value);
            if (r == 1 && san_escaped(&out, value.data, value.size, 0) < 0)
                r = -1;
            text_put_all(&text, value.data, value.size);
        } else if (!san_plain_char(c)) {
            r = 0;
        } else if (c == '>' || c == 0xA0) {
            r = san_escaped(&out, &c, 1, 0) < 0 ? -1 : 1;
            text_put(&text, c);
        } else if (chars_reserve(&out, 1) < 0) {
            r = -1;
        } else {
            out.data[out.size++] = c;
            text_put(&text, c);
        }
    }
    if (r == 1 && depth == 0)
        result = Py_BuildValue("(NN)", PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out.data, out.size),
                               PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, text.chars.data, text.chars.size));
    else if (r >= 0)
        result = Py_NewRef(Py_None);
done:
    PyMem_Free(in);
    PyMem_Free(out.data);
    PyMem_Free(value.data);
    PyMem_Free(text.chars.data);
    return result;
}

/* ------------------------------------------------------------------ language detection */
/* py3langid.langid.visit_counts, which normalise/language.py detects languages with: a DFA over the text's
 * UTF-8 bytes, counting the features its states emit; a dict {feature: count} in order of first emission
 * (as the Counter it builds), or None. In Python that loop is ~0.7 us a byte, most of a detection. The
 * model's lists (row offsets, outputs) are copied to C arrays once per model object. */
static PyObject *dfa_rowbase_seen = NULL, *dfa_output_seen = NULL;
static int64_t *dfa_rowbase = NULL, *dfa_output = NULL;
static Py_ssize_t dfa_states = 0;

static int64_t *int_list_copy(PyObject *list)
{
    Py_ssize_t n = PyList_GET_SIZE(list);
    int64_t *values = PyMem_Malloc(sizeof(int64_t) * (size_t)(n ? n : 1));
    if (values == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        values[i] = PyLong_AsLongLong(PyList_GET_ITEM(list, i));
        if (values[i] == -1 && PyErr_Occurred()) {
            PyMem_Free(values);
            return NULL;
        }
    }
    return values;
}

static int learn_dfa(PyObject *rowbase, PyObject *output)
{
    if (rowbase == dfa_rowbase_seen && output == dfa_output_seen)
        return 0;
    if (PyList_GET_SIZE(rowbase) != PyList_GET_SIZE(output)) {
        PyErr_SetString(PyExc_ValueError, "dfa_counts: one row offset and one output per state");
        return -1;
    }
    int64_t *rows = int_list_copy(rowbase), *outs = rows ? int_list_copy(output) : NULL;
    if (outs == NULL) {
        PyMem_Free(rows);
        return -1;
    }
    PyMem_Free(dfa_rowbase);
    PyMem_Free(dfa_output);
    dfa_rowbase = rows;
    dfa_output = outs;
    dfa_states = PyList_GET_SIZE(rowbase);
    Py_XSETREF(dfa_rowbase_seen, Py_NewRef(rowbase));
    Py_XSETREF(dfa_output_seen, Py_NewRef(output));
    return 0;
}

#define DFA_SLOTS 4096 /* a power of two above twice the features of any text: texts are cut to 300 characters */
static PyObject *dfa_counts(PyObject *self, PyObject *args)
{
    PyObject *nextmove, *rowbase, *output;
    Py_buffer text, moves;
    if (!PyArg_ParseTuple(args, "OO!O!y*", &nextmove, &PyList_Type, &rowbase, &PyList_Type, &output, &text))
        return NULL;
    if (learn_dfa(rowbase, output) < 0 || PyObject_GetBuffer(nextmove, &moves, PyBUF_FORMAT) < 0) {
        PyBuffer_Release(&text);
        return NULL;
    }
    PyObject *result = NULL;
    int32_t *features = NULL, *counts = NULL, *slots = NULL;
    if (moves.itemsize != 4 || moves.format == NULL || strcmp(moves.format, "I") != 0) {
        result = Py_NewRef(Py_NotImplemented); /* another model layout: the caller runs py3langid's loop */
        goto done;
    }
    const uint32_t *nm = moves.buf;
    Py_ssize_t moves_count = moves.len / 4, n = text.len, found = 0;
    if (n > DFA_SLOTS / 2) {
        result = Py_NewRef(Py_NotImplemented);
        goto done;
    }
    features = PyMem_Malloc(sizeof(int32_t) * (size_t)(n + 1));
    counts = PyMem_Malloc(sizeof(int32_t) * (size_t)(n + 1));
    slots = PyMem_Malloc(sizeof(int32_t) * DFA_SLOTS); /* feature -> its index in `features`, open addressing */
    if (features == NULL || counts == NULL || slots == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    memset(slots, -1, sizeof(int32_t) * DFA_SLOTS);
    const unsigned char *bytes = text.buf;
    int64_t state = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t move = dfa_rowbase[state] + bytes[i];
        if (move < 0 || move >= moves_count || (int64_t)nm[move] >= dfa_states) {
            PyErr_SetString(PyExc_ValueError, "dfa_counts: the model's tables do not fit together");
            goto done;
        }
        state = nm[move];
        int64_t feature = dfa_output[state];
        if (feature < 0)
            continue;
        uint32_t slot = (uint32_t)((uint64_t)feature * 0x9E3779B1u) & (DFA_SLOTS - 1);
        while (slots[slot] >= 0 && features[slots[slot]] != feature)
            slot = (slot + 1) & (DFA_SLOTS - 1);
        if (slots[slot] < 0) {
            slots[slot] = (int32_t)found;
            features[found] = (int32_t)feature;
            counts[found++] = 0;
        }
        counts[slots[slot]]++;
    }
    if (found == 0) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    result = PyDict_New();
    for (Py_ssize_t k = 0; result != NULL && k < found; k++) {
        PyObject *key = PyLong_FromLong(features[k]), *value = PyLong_FromLong(counts[k]);
        if (key == NULL || value == NULL || PyDict_SetItem(result, key, value) < 0)
            Py_CLEAR(result);
        Py_XDECREF(key);
        Py_XDECREF(value);
    }
done:
    PyMem_Free(features);
    PyMem_Free(counts);
    PyMem_Free(slots);
    PyBuffer_Release(&moves);
    PyBuffer_Release(&text);
    return result;
}

static PyMethodDef methods[] = {
    {"init", init, METH_VARARGS, "Set the tables `signature` reads (from dedupe/shingles.py and near.py)."},
    {"signature", signature, METH_VARARGS, "near.make_signature, bit for bit: (size, bins, keys), None or NotImplemented."},
    {"fold", fold, METH_O, "words.folded_runs: (joined, chars), None (the exact path) or the characters to learn."},
    {"learn_fold", learn_fold, METH_VARARGS, "How one non-ASCII character folds (words._char_fold)."},
    {"xml_clean", xml_clean, METH_O, "Whether the text holds no character that XML 1.0 forbids."},
    {"html_to_text", html_to_text, METH_VARARGS, "html.html_to_text of sanitised HTML, or None (another entity)."},
    {"sanitize", sanitize, METH_VARARGS, "html.sanitize_html's nh3 call for simple markup, and its text; or None (nh3 decides)."},
    {"dfa_counts", dfa_counts, METH_VARARGS, "py3langid's visit_counts: {feature: count}, None or NotImplemented."},
    {"collapse_spaces", collapse_spaces, METH_O, "b' '.join(data.split()) for data spaced with b' ' only."},
    {"token_table", token_table, METH_O, "A lookup table for present_tokens."},
    {"present_tokens", present_tokens, METH_VARARGS, "The tokens that are runs of `joined`."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "aggregator._speedups", "The per-character loops of a first poll, in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    init_ascii_map();
    PyObject *m = PyModule_Create(&module);
    /* speedups.py uses the module only when this matches: an editable install whose Python files were
     * updated without rebuilding this falls back to the references instead of failing */
    if (m != NULL && PyModule_AddIntConstant(m, "VERSION", SPEEDUPS_VERSION) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
