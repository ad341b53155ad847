/*
 * The `bootward:native` module: the hot paths that pure JS on QuickJS makes too slow for the
 * boot budget (SHA-256 of /boot at ~1 MB/s, an Ed25519 check at ~250 ms).
 *
 * The cryptography is libsodium's (pinned source, see build/native.ts): SHA-256, SHA-512 and
 * Ed25519 verification. Only the RSA public operation is ours, because libsodium has none and
 * a public-key operation on public data needs no constant-time care: left-to-right
 * square-and-multiply with Montgomery multiplication over 32-bit limbs, checked against
 * node:crypto and BigInt in the tests.
 * The PKCS#1 v1.5 encoding and its comparison stay in JS (runtime/host/quickjs/subtle.ts).
 *
 * SHA-256 of whole blocks runs on the CPU's SHA extensions where it has them (Intel since Goldmont
 * and Ice Lake, AMD since Zen): several times libsodium's portable code, which is what makes
 * /boot verification cheaper than a sha256sum process. The padding and the last partial block
 * stay libsodium's, so both paths share everything but the compression function; the tests
 * build the probe with BOOTWARD_PORTABLE_SHA256 too, so the portable path is checked on any CPU.
 *
 * Every function takes and returns bytes (ArrayBuffer or typed array in, ArrayBuffer out);
 * sha256File returns a negative errno instead of throwing, as QuickJS's `os` module does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) && !defined(BOOTWARD_PORTABLE_SHA256)
#define SHA_EXTENSIONS 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "quickjs.h"
#include "crypto_hash_sha256.h"
#include "crypto_hash_sha512.h"
#include "crypto_sign_ed25519.h"

/* Large reads keep the syscall count negligible next to the hashing itself. */
#define FILE_CHUNK (256 * 1024)
/* 8192-bit moduli: beyond any OpenPGP key a /boot signer uses. */
#define RSA_MAX_BYTES 1024
#define RSA_MAX_LIMBS (RSA_MAX_BYTES / 4)

static uint8_t file_buffer[FILE_CHUNK];

#ifdef SHA_EXTENSIONS
/* FIPS 180-4 §4.2.2. */
static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* -1 unknown, then 0 or 1: CPUID leaf 7 EBX bit 29 (SHA), leaf 1 ECX bits 9 (SSSE3) and 19 (SSE4.1). */
static int sha_extensions = -1;

static int have_sha_extensions(void)
{
    unsigned a, b, c, d;

    if (sha_extensions < 0) {
        sha_extensions = __get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
                         __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 29));
    }
    return sha_extensions;
}

/*
 * The compression function over whole blocks. The instructions keep the working variables as
 * ABEF and CDGH and do two rounds each; a message word group is made from the four before it
 * (msg1: w[i-16] + σ0(w[i-15]); + w[i-7]; msg2: + σ1(w[i-2])).
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void sha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks)
{
    const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)&state[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)&state[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
    __m128i fedc, w[4], k;
    int group;

    for (; blocks > 0; blocks--, data += 64) {
        __m128i abef_before = abef, cdgh_before = cdgh;

        for (group = 0; group < 16; group++) {
            __m128i *words = &w[group & 3];
            if (group < 4) {
                *words = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * group)), byte_swap);
            } else {
                __m128i previous = w[(group - 1) & 3];
                __m128i sum = _mm_add_epi32(_mm_sha256msg1_epu32(*words, w[(group - 3) & 3]),
                                            _mm_alignr_epi8(previous, w[(group - 2) & 3], 4));
                *words = _mm_sha256msg2_epu32(sum, previous);
            }
            k = _mm_add_epi32(*words, _mm_loadu_si128((const __m128i *)&sha256_k[4 * group]));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, _mm_shuffle_epi32(k, 0x0e));
        }
        abef = _mm_add_epi32(abef, abef_before);
        cdgh = _mm_add_epi32(cdgh, cdgh_before);
    }
    fedc = _mm_shuffle_epi32(abef, 0x1b);
    cdgh = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)&state[0], _mm_blend_epi16(fedc, cdgh, 0xf0));
    _mm_storeu_si128((__m128i *)&state[4], _mm_alignr_epi8(cdgh, fedc, 8));
}
#endif

/* crypto_hash_sha256_update, with the whole blocks on the SHA extensions when libsodium's buffer is empty. */
static void sha256_update(crypto_hash_sha256_state *state, const uint8_t *data, size_t len)
{
#ifdef SHA_EXTENSIONS
    /* count is in bits; a multiple of 512 means no partial block is waiting in state->buf. */
    if (len >= 64 && (state->count & 511) == 0 && have_sha_extensions()) {
        size_t blocks = len / 64;
        sha256_blocks(state->state, data, blocks);
        state->count += (uint64_t)blocks * 512;
        data += blocks * 64;
        len -= blocks * 64;
    }
#endif
    crypto_hash_sha256_update(state, data, len);
}

/* The bytes of an ArrayBuffer or a typed array (a view's own window, not its whole buffer). */
static uint8_t *bytes_of(JSContext *ctx, JSValueConst value, size_t *len)
{
    size_t offset, length, per_element, size;
    uint8_t *base;
    JSValue buffer = JS_GetTypedArrayBuffer(ctx, value, &offset, &length, &per_element);

    if (JS_IsException(buffer)) {
        JS_FreeValue(ctx, JS_GetException(ctx));
        return JS_GetArrayBuffer(ctx, len, value);
    }
    base = JS_GetArrayBuffer(ctx, &size, buffer);
    /* The view keeps its buffer alive; this reference is not needed to use the bytes. */
    JS_FreeValue(ctx, buffer);
    if (base == NULL)
        return NULL;
    *len = length;
    return base + offset;
}

static JSValue js_sha256(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    uint8_t *data = bytes_of(ctx, argv[0], &len);
    crypto_hash_sha256_state state;
    uint8_t out[crypto_hash_sha256_BYTES];

    if (data == NULL)
        return JS_EXCEPTION;
    crypto_hash_sha256_init(&state);
    sha256_update(&state, data, len);
    crypto_hash_sha256_final(&state, out);
    return JS_NewArrayBufferCopy(ctx, out, sizeof out);
}

static JSValue js_sha512(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t len;
    uint8_t *data = bytes_of(ctx, argv[0], &len);
    uint8_t out[crypto_hash_sha512_BYTES];

    if (data == NULL)
        return JS_EXCEPTION;
    crypto_hash_sha512(out, data, len);
    return JS_NewArrayBufferCopy(ctx, out, sizeof out);
}

static JSValue js_sha256_file(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    const char *path = JS_ToCString(ctx, argv[0]);
    crypto_hash_sha256_state state;
    uint8_t out[crypto_hash_sha256_BYTES];
    int fd, error = 0;

    if (path == NULL)
        return JS_EXCEPTION;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    JS_FreeCString(ctx, path);
    if (fd < 0)
        return JS_NewInt32(ctx, -errno);
    crypto_hash_sha256_init(&state);
    for (;;) {
        ssize_t n = read(fd, file_buffer, sizeof file_buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            error = errno;
        if (n <= 0)
            break;
        sha256_update(&state, file_buffer, (size_t)n);
    }
    close(fd);
    if (error != 0)
        return JS_NewInt32(ctx, -error);
    crypto_hash_sha256_final(&state, out);
    return JS_NewArrayBufferCopy(ctx, out, sizeof out);
}

/* The three arguments as bytes; -1 with a TypeError pending when one is not bytes. */
static int three_byte_arguments(JSContext *ctx, JSValueConst *argv, uint8_t *bytes[3], size_t lens[3])
{
    int i;

    for (i = 0; i < 3; i++) {
        bytes[i] = bytes_of(ctx, argv[i], &lens[i]);
        if (bytes[i] == NULL)
            return -1;
    }
    return 0;
}

/* ed25519Verify(publicKey, message, signature) */
static JSValue js_ed25519_verify(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t *arg[3];
    size_t len[3];

    if (three_byte_arguments(ctx, argv, arg, len) < 0)
        return JS_EXCEPTION;
    if (len[0] != crypto_sign_ed25519_PUBLICKEYBYTES || len[2] != crypto_sign_ed25519_BYTES)
        return JS_FALSE;
    return JS_NewBool(ctx, crypto_sign_ed25519_verify_detached(arg[2], arg[1], len[1], arg[0]) == 0);
}

/* Numbers are little-endian arrays of 32-bit limbs; byte strings are big-endian. */

static const uint8_t *skip_zeros(const uint8_t *bytes, size_t *len)
{
    while (*len > 0 && bytes[0] == 0) {
        bytes++;
        (*len)--;
    }
    return bytes;
}

static void limbs_from_bytes(uint32_t *x, size_t limbs, const uint8_t *bytes, size_t len)
{
    size_t i;

    memset(x, 0, limbs * sizeof *x);
    for (i = 0; i < len; i++)
        x[i / 4] |= (uint32_t)bytes[len - 1 - i] << (8 * (i % 4));
}

static void limbs_to_bytes(uint8_t *bytes, size_t len, const uint32_t *x)
{
    size_t i;

    for (i = 0; i < len; i++)
        bytes[len - 1 - i] = (uint8_t)(x[i / 4] >> (8 * (i % 4)));
}

static int limbs_compare(const uint32_t *a, const uint32_t *b, size_t limbs)
{
    while (limbs-- > 0) {
        if (a[limbs] != b[limbs])
            return a[limbs] < b[limbs] ? -1 : 1;
    }
    return 0;
}

/* a -= b, modulo 2^(32·limbs). */
static void limbs_subtract(uint32_t *a, const uint32_t *b, size_t limbs)
{
    uint64_t borrow = 0;
    size_t i;

    for (i = 0; i < limbs; i++) {
        uint64_t d = (uint64_t)a[i] - b[i] - borrow;
        a[i] = (uint32_t)d;
        borrow = (d >> 32) & 1;
    }
}

struct modulus {
    uint32_t n[RSA_MAX_LIMBS];
    size_t limbs;
    /* -n⁻¹ mod 2³², for Montgomery reduction. */
    uint32_t n0_inverse;
};

/* r = a·b·R⁻¹ mod n, R = 2^(32·limbs); a, b < n; r may alias a or b. */
static void montgomery_multiply(uint32_t *r, const uint32_t *a, const uint32_t *b, const struct modulus *m)
{
    uint32_t t[RSA_MAX_LIMBS + 2];
    size_t L = m->limbs, i, j;

    memset(t, 0, (L + 2) * sizeof *t);
    for (i = 0; i < L; i++) {
        uint64_t carry = 0, s;
        uint32_t q;

        for (j = 0; j < L; j++) {
            s = (uint64_t)t[j] + (uint64_t)a[j] * b[i] + carry;
            t[j] = (uint32_t)s;
            carry = s >> 32;
        }
        s = (uint64_t)t[L] + carry;
        t[L] = (uint32_t)s;
        t[L + 1] = (uint32_t)(s >> 32);

        q = t[0] * m->n0_inverse;
        s = (uint64_t)t[0] + (uint64_t)q * m->n[0];
        carry = s >> 32;
        for (j = 1; j < L; j++) {
            s = (uint64_t)t[j] + (uint64_t)q * m->n[j] + carry;
            t[j - 1] = (uint32_t)s;
            carry = s >> 32;
        }
        s = (uint64_t)t[L] + carry;
        t[L - 1] = (uint32_t)s;
        t[L] = t[L + 1] + (uint32_t)(s >> 32);
    }
    /* t < 2n here, so one subtraction brings it below n. */
    if (t[L] != 0 || limbs_compare(t, m->n, L) >= 0)
        limbs_subtract(t, m->n, L + 1);
    memcpy(r, t, L * sizeof *t);
}

/* R² mod n by doubling 1 2·32·limbs times: slow next to division, but a few µs for one key. */
static void montgomery_r_squared(uint32_t *rr, const struct modulus *m)
{
    size_t L = m->limbs, i, j;

    memset(rr, 0, L * sizeof *rr);
    rr[0] = 1;
    for (i = 0; i < 64 * L; i++) {
        uint32_t carry = 0;
        for (j = 0; j < L; j++) {
            uint32_t next = rr[j] >> 31;
            rr[j] = (rr[j] << 1) | carry;
            carry = next;
        }
        if (carry != 0 || limbs_compare(rr, m->n, L) >= 0)
            limbs_subtract(rr, m->n, L);
    }
}

/*
 * rsaPublic(n, e, s): s^e mod n as exactly as many bytes as n has, or null when the input
 * is not a public-key operation (n even or too large, e zero, s ≥ n).
 */
static JSValue js_rsa_public(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    uint8_t *arg[3];
    size_t len[3], n_len, e_len, s_len, i;
    const uint8_t *n_bytes, *e_bytes, *s_bytes;
    struct modulus m;
    uint32_t s[RSA_MAX_LIMBS], rr[RSA_MAX_LIMBS], base[RSA_MAX_LIMBS], acc[RSA_MAX_LIMBS], one[RSA_MAX_LIMBS];
    uint8_t out[RSA_MAX_BYTES];
    uint32_t inverse;
    int started = 0, bit;

    if (three_byte_arguments(ctx, argv, arg, len) < 0)
        return JS_EXCEPTION;
    n_len = len[0];
    e_len = len[1];
    s_len = len[2];
    n_bytes = skip_zeros(arg[0], &n_len);
    e_bytes = skip_zeros(arg[1], &e_len);
    s_bytes = skip_zeros(arg[2], &s_len);
    if (n_len == 0 || n_len > RSA_MAX_BYTES || (n_bytes[n_len - 1] & 1) == 0 || e_len == 0 || s_len > n_len)
        return JS_NULL;

    m.limbs = (n_len + 3) / 4;
    limbs_from_bytes(m.n, m.limbs, n_bytes, n_len);
    limbs_from_bytes(s, m.limbs, s_bytes, s_len);
    if (limbs_compare(s, m.n, m.limbs) >= 0)
        return JS_NULL;
    /* Newton's iteration doubles the correct low bits each step: 1 → 32 in five. */
    inverse = 1;
    for (i = 0; i < 5; i++)
        inverse *= 2 - m.n[0] * inverse;
    m.n0_inverse = (uint32_t)0 - inverse;

    montgomery_r_squared(rr, &m);
    montgomery_multiply(base, s, rr, &m);
    memcpy(acc, base, m.limbs * sizeof *acc);
    for (i = 0; i < e_len; i++) {
        for (bit = 7; bit >= 0; bit--) {
            int set = (e_bytes[i] >> bit) & 1;
            if (!started) {
                started = set;
                continue;
            }
            montgomery_multiply(acc, acc, acc, &m);
            if (set)
                montgomery_multiply(acc, acc, base, &m);
        }
    }
    memset(one, 0, m.limbs * sizeof *one);
    one[0] = 1;
    montgomery_multiply(acc, acc, one, &m);
    limbs_to_bytes(out, n_len, acc);
    return JS_NewArrayBufferCopy(ctx, out, n_len);
}

static const JSCFunctionListEntry native_functions[] = {
    JS_CFUNC_DEF("sha256", 1, js_sha256),
    JS_CFUNC_DEF("sha512", 1, js_sha512),
    JS_CFUNC_DEF("sha256File", 1, js_sha256_file),
    JS_CFUNC_DEF("ed25519Verify", 3, js_ed25519_verify),
    JS_CFUNC_DEF("rsaPublic", 3, js_rsa_public),
};

static int native_init(JSContext *ctx, JSModuleDef *m)
{
    return JS_SetModuleExportList(ctx, m, native_functions, sizeof native_functions / sizeof native_functions[0]);
}

JSModuleDef *js_init_module_native(JSContext *ctx, const char *module_name)
{
    JSModuleDef *m = JS_NewCModule(ctx, module_name, native_init);

    if (m == NULL)
        return NULL;
    JS_AddModuleExportList(ctx, m, native_functions, sizeof native_functions / sizeof native_functions[0]);
    return m;
}
