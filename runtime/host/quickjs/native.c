/*
 * The `bootward:native` module: the hot paths that pure JS on QuickJS makes too slow for the
 * boot budget (SHA-256 of /boot at ~1 MB/s, an Ed25519 check at ~250 ms).
 *
 * The cryptography is libsodium's (pinned source, see build/native.ts): SHA-256, SHA-512 and
 * Ed25519 verification. Only the RSA public operation is ours, because libsodium has none and
 * a public-key operation on public data needs no constant-time care: left-to-right
 * square-and-multiply with Montgomery multiplication over 32-bit limbs, checked against
 * node:crypto and BigInt in the tests.
 * The PKCS#1 v1.5 encoding and its comparison stay in JS (runtime/host/quickjs/web-crypto.ts).
 *
 * Every function takes and returns bytes (ArrayBuffer or typed array in, ArrayBuffer out);
 * sha256File returns a negative errno instead of throwing, as QuickJS's `os` module does.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

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
    uint8_t out[crypto_hash_sha256_BYTES];

    if (data == NULL)
        return JS_EXCEPTION;
    crypto_hash_sha256(out, data, len);
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
        crypto_hash_sha256_update(&state, file_buffer, (unsigned long long)n);
    }
    close(fd);
    if (error != 0)
        return JS_NewInt32(ctx, -error);
    crypto_hash_sha256_final(&state, out);
    return JS_NewArrayBufferCopy(ctx, out, sizeof out);
}

static JSValue js_ed25519_verify(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv)
{
    size_t public_len, message_len, signature_len;
    uint8_t *public_key = bytes_of(ctx, argv[0], &public_len);
    uint8_t *message, *signature;

    if (public_key == NULL)
        return JS_EXCEPTION;
    message = bytes_of(ctx, argv[1], &message_len);
    if (message == NULL)
        return JS_EXCEPTION;
    signature = bytes_of(ctx, argv[2], &signature_len);
    if (signature == NULL)
        return JS_EXCEPTION;
    if (public_len != crypto_sign_ed25519_PUBLICKEYBYTES || signature_len != crypto_sign_ed25519_BYTES)
        return JS_FALSE;
    return JS_NewBool(ctx, crypto_sign_ed25519_verify_detached(signature, message, message_len, public_key) == 0);
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
    size_t n_len, e_len, s_len, i;
    const uint8_t *n_bytes = bytes_of(ctx, argv[0], &n_len);
    const uint8_t *e_bytes, *s_bytes;
    struct modulus m;
    uint32_t s[RSA_MAX_LIMBS], rr[RSA_MAX_LIMBS], base[RSA_MAX_LIMBS], acc[RSA_MAX_LIMBS], one[RSA_MAX_LIMBS];
    uint8_t out[RSA_MAX_BYTES];
    uint32_t inverse;
    int started = 0, bit;

    if (n_bytes == NULL)
        return JS_EXCEPTION;
    e_bytes = bytes_of(ctx, argv[1], &e_len);
    if (e_bytes == NULL)
        return JS_EXCEPTION;
    s_bytes = bytes_of(ctx, argv[2], &s_len);
    if (s_bytes == NULL)
        return JS_EXCEPTION;
    n_bytes = skip_zeros(n_bytes, &n_len);
    e_bytes = skip_zeros(e_bytes, &e_len);
    s_bytes = skip_zeros(s_bytes, &s_len);
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
