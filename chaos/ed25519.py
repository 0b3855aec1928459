"""Ed25519 (RFC 8032) in the Python standard library, for the chaos suite's independent replay
(chaos/replay.py): a release of a signed request counts only with a valid signature by the key
its acquire named (docs/protocol.md, "Owner proofs"). Signing is here for the self-test's
planted histories (chaos/selftest.py), which build signed records without the extension.

Verification is strict like ed25519-dalek's `verify_strict`, which the extension uses: S below
the group order, canonical encodings of A and R, neither of small order, and the cofactorless
equation [S]B = R + [h]A. When the `cryptography` package is installed its verifier is used
for speed (about 30 times faster); the strict checks are made here either way, and the
self-test checks both paths against RFC 8032's vectors.
"""
import hashlib

P = 2 ** 255 - 19
L = 2 ** 252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)
IDENTITY = (0, 1, 1, 0)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _double(a):
    A = a[0] * a[0] % P
    B = a[1] * a[1] % P
    C = 2 * a[2] * a[2] % P
    H = A + B
    E = H - (a[0] + a[1]) ** 2
    G = A - B
    F = C + G
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(k, pt):
    q = IDENTITY
    for bit in bin(k)[2:]:
        q = _double(q)
        if bit == "1":
            q = _add(q, pt)
    return q


def _double_mul(s, a, h, b):
    """[s]a + [h]b (Straus: one chain of doublings)."""
    ab = _add(a, b)
    q = IDENTITY
    for i in range(max(s.bit_length(), h.bit_length()) - 1, -1, -1):
        q = _double(q)
        sb, hb = (s >> i) & 1, (h >> i) & 1
        if sb and hb:
            q = _add(q, ab)
        elif sb:
            q = _add(q, a)
        elif hb:
            q = _add(q, b)
    return q


def _encode(pt):
    zi = pow(pt[2], P - 2, P)
    x, y = pt[0] * zi % P, pt[1] * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _decode(b):
    if len(b) != 32:
        return None
    v = int.from_bytes(b, "little")
    y, sign = v & ((1 << 255) - 1), v >> 255
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


def _small_order(pt):
    q = _double(_double(_double(pt)))
    return q[0] % P == 0 and (q[1] - q[2]) % P == 0


def _h(*parts):
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


try:  # optional: the same verification, in C
    from cryptography.exceptions import InvalidSignature as _Invalid
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey as _Pub
except ImportError:  # pragma: no cover - depends on the machine
    _Pub = None

FAST = _Pub is not None


def verify(public_key, message, signature, fast=None):
    """Whether `signature` (64 bytes) is `public_key`'s (32 bytes) strict Ed25519 signature of
    `message`. fast: None = use `cryptography` when installed; False = pure Python only."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    a, r = _decode(public_key), _decode(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    if (FAST if fast is None else fast) and _Pub is not None:
        try:
            _Pub.from_public_bytes(public_key).verify(signature, message)
            return True
        except (_Invalid, ValueError):
            return False
    h = _h(signature[:32], public_key, message) % L
    neg_a = ((P - a[0]) % P, a[1], a[2], (P - a[3]) % P)
    return _encode(_double_mul(s, BASE, h, neg_a)) == signature[:32]


def public_key(seed):
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    return _encode(_mul(a, BASE))


def sign(seed, message):
    """RFC 8032 signature of `message` by the key made from the 32-byte `seed`."""
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a = (a & ((1 << 254) - 8)) | (1 << 254)
    pub = _encode(_mul(a, BASE))
    r = _h(h[32:], message) % L
    rb = _encode(_mul(r, BASE))
    k = _h(rb, pub, message) % L
    return rb + ((r + k * a) % L).to_bytes(32, "little")


# RFC 8032, section 7.1, tests 1 to 3: (secret seed, public key, message, signature), hex.
RFC8032_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


def self_check():
    """-> [what failed]: RFC 8032's vectors sign and verify on both paths; a changed message,
    signature, key, and a non-canonical S are refused."""
    bad = []
    for seed, pub, msg, sig in RFC8032_VECTORS:
        seed, pub, msg, sig = (bytes.fromhex(x) for x in (seed, pub, msg, sig))
        if public_key(seed) != pub:
            bad.append("public key of vector %s" % pub.hex()[:8])
        if sign(seed, msg) != sig:
            bad.append("signature of vector %s" % pub.hex()[:8])
        for fast in (False, True) if FAST else (False,):
            tag = "fast" if fast else "pure"
            if not verify(pub, msg, sig, fast):
                bad.append("%s: vector %s does not verify" % (tag, pub.hex()[:8]))
            if verify(pub, msg + b"x", sig, fast):
                bad.append("%s: vector %s verifies another message" % (tag, pub.hex()[:8]))
            if verify(pub, msg, sig[:40] + bytes([sig[40] ^ 1]) + sig[41:], fast):
                bad.append("%s: vector %s verifies a changed signature" % (tag, pub.hex()[:8]))
            s = int.from_bytes(sig[32:], "little") + L
            if s < 1 << 256 and verify(pub, msg, sig[:32] + s.to_bytes(32, "little"), fast):
                bad.append("%s: vector %s verifies with S + L" % (tag, pub.hex()[:8]))
    other = bytes.fromhex(RFC8032_VECTORS[1][1])
    seed, _, msg, sig = (bytes.fromhex(x) for x in RFC8032_VECTORS[0])
    if verify(other, msg, sig):
        bad.append("a signature verifies under another key")
    return bad
