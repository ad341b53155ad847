// OIAP and OSAP authorization sessions (Part 1, 13): the HMAC-SHA1 over paramDigest and the
// rolling nonces, and ADIP, which sends a new authorization XOR-ed with a pad only the TPM
// and the OSAP session's owner can compute.
import { hmacSha1, sha1 } from "../crypto/hash.ts";
import { wipe } from "../../lib/bytes.ts";

export class AuthSession {
  constructor(
    readonly handle: number,
    /** The TPM's latest nonce; each response brings the next one. */
    public nonceEven: Uint8Array,
    /** The HMAC key: the entity's authorization (OIAP) or the OSAP shared secret. */
    private readonly key: Uint8Array,
    readonly kind: "OIAP" | "OSAP",
  ) {}

  /** The authorization of a command whose parameters hash to paramDigest (continueAuthSession FALSE). */
  authorize(paramDigest: Uint8Array, nonceOdd: Uint8Array): Uint8Array {
    return hmacSha1(this.key, paramDigest, this.nonceEven, nonceOdd, Uint8Array.of(0));
  }

  /** The resAuth the TPM must have sent with a response hashing to outDigest. */
  expected(outDigest: Uint8Array, nonceEven: Uint8Array, nonceOdd: Uint8Array, continueSession: number): Uint8Array {
    return hmacSha1(this.key, outDigest, nonceEven, nonceOdd, Uint8Array.of(continueSession));
  }

  /** ADIP: the encAuth that carries `auth` to the TPM in this OSAP session's next command. */
  encryptAuth(auth: Uint8Array): Uint8Array {
    const pad = sha1(this.key, this.nonceEven);
    return auth.map((b, i) => b ^ pad[i]!);
  }

  wipe(): void {
    wipe(this.key);
  }
}

/** sharedSecret = HMAC-SHA1(entity authorization, nonceEvenOSAP ‖ nonceOddOSAP). */
export function osapSecret(entityAuth: Uint8Array, nonceEvenOSAP: Uint8Array, nonceOddOSAP: Uint8Array): Uint8Array {
  return hmacSha1(entityAuth, nonceEvenOSAP, nonceOddOSAP);
}
