#!/usr/bin/env python3
"""An independent client of innsyn's tiles (README, "Tiles"), written from
C2SP tlog-tiles, tlog-checkpoint, signed-note and RFC 6962 §2.1 alone: it
fetches /checkpoint and the tiles over HTTP(S), checks the checkpoint's
Ed25519 signature against the verifier key, and checks the tiles three ways:

  1. the tree head a tlog client computes: the root from the highest tiles
     that cover each perfect subtree of the tree, as tlog-tiles intends;
  2. every level 0 tile (full and partial): the leaf hashes, from which the
     RFC 6962 root and innsyn's hash chain are recomputed and compared with
     the checkpoint's root and its `chain` extension line;
  3. every tile of every higher level: each hash is the root of the 256^L
     leaves below it, and the widths are those tlog-tiles prescribes for the
     checkpoint's size (a wider partial tile, or the next tile, is 404).

Prints one summary line on success; exits 1 naming the first mismatch.
"""
import argparse
import base64
import hashlib
import http.client
import ssl
import sys
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

HASH = 32
WIDTH = 256  # hashes in a full tile
HEIGHT = 8  # tree levels a tile spans


class Mismatch(Exception):
    pass


def sha256(*parts):
    h = hashlib.sha256()
    for part in parts:
        h.update(part)
    return h.digest()


def node(left, right):
    return sha256(b"\x01", left, right)


def mth(hashes):
    """RFC 6962 §2.1 MTH over already-hashed leaves (or subtree roots of
    equal size, which is the same definition one level up)."""
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node(mth(hashes[:k]), mth(hashes[k:]))


def tile_path(level, index, width):
    """/tile/<L>/<N>[.p/<W>] with N in x-prefixed 3-digit elements."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    n = "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
    return f"/tile/{level}/{n}" + (f".p/{width}" if width < WIDTH else "")


class Client:
    def __init__(self, url, ca, cert, key):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme == "https":
            context = ssl.create_default_context(cafile=ca)
            if cert:
                context.load_cert_chain(cert, key)
            self.connection = http.client.HTTPSConnection(parsed.hostname, parsed.port,
                                                          context=context, timeout=20)
        else:
            self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=20)
        self.fetched = 0

    def get(self, path):
        self.connection.request("GET", path)
        answer = self.connection.getresponse()
        return answer.status, answer.getheader("Content-Type", ""), answer.read()

    def tile(self, level, index, width):
        path = tile_path(level, index, width)
        status, content_type, body = self.get(path)
        if status != 200 or content_type != "application/octet-stream":
            raise Mismatch(f"GET {path}: {status} {content_type} {body[:200]!r}")
        if len(body) != width * HASH:
            raise Mismatch(f"GET {path}: {len(body)} bytes, not {width * HASH}")
        self.fetched += 1
        return [body[i:i + HASH] for i in range(0, len(body), HASH)]

    def expect_404(self, path):
        status, _, body = self.get(path)
        if status != 404:
            raise Mismatch(f"GET {path}: {status}, not 404 (beyond the tree): {body[:200]!r}")


def verify_note(note, verifier_key):
    """signed-note: text, a blank line, signature lines "— <name> <base64>"
    where the base64 is key id (4) ‖ signature. Returns the text."""
    name, key_hash, key_b64 = verifier_key.strip().split("+", 2)
    key = base64.b64decode(key_b64)
    if key[0] != 1 or len(key) != 33:
        raise Mismatch("the verifier key is not an Ed25519 key (type 0x01)")
    key_id = sha256(name.encode(), b"\n", key)[:4]
    if key_id.hex() != key_hash:
        raise Mismatch(f"the verifier key's hash {key_hash} is not {key_id.hex()}")
    text, _, signatures = note.rpartition("\n\n")
    text += "\n"
    for line in signatures.splitlines():
        if not line.startswith("\u2014 "):
            raise Mismatch(f"not a signature line: {line!r}")
        signer, signature_b64 = line[2:].split(" ")
        signature = base64.b64decode(signature_b64)
        if signer == name and signature[:4] == key_id:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(signature[4:], text.encode())
            return text
    raise Mismatch(f"no signature by {name} on the checkpoint")


def parse_checkpoint(text):
    lines = text.rstrip("\n").split("\n")
    size_line = lines[1]
    if size_line != str(int(size_line)):
        raise Mismatch(f"tree size {size_line!r} is not a decimal without leading zeros")
    extensions = {}
    for line in lines[3:]:
        if not line:
            raise Mismatch("an empty extension line")
        name, _, value = line.partition(" ")
        extensions[name] = base64.b64decode(value)
    return lines[0], int(size_line), base64.b64decode(lines[2]), extensions


def width_at(size, level, index):
    """The width tlog-tiles gives tile `index` of `level` in a tree of `size`."""
    hashes = size >> (HEIGHT * level)
    return min(WIDTH, hashes - index * WIDTH)


def root_from_top_tiles(client, size):
    """What a tlog client does: each perfect subtree of the tree's
    decomposition (largest first) from the one tile that holds its level."""
    subtrees = []
    start = 0
    for height in range(63, -1, -1):
        if size - start < (1 << height):
            continue
        level = height // HEIGHT
        first = start >> (HEIGHT * level)  # its first hash at tree level 8L
        count = 1 << (height - HEIGHT * level)
        index = first // WIDTH
        hashes = client.tile(level, index, width_at(size, level, index))
        offset = first % WIDTH
        subtrees.append(mth(hashes[offset:offset + count]))
        start += 1 << height
    root = subtrees[-1]
    for subtree in reversed(subtrees[:-1]):
        root = node(subtree, root)
    return root


def check(client, verifier_key):
    status, content_type, body = client.get("/checkpoint")
    if status != 200 or content_type != "text/plain; charset=utf-8":
        raise Mismatch(f"GET /checkpoint: {status} {content_type} {body[:200]!r}")
    origin, size, root, extensions = parse_checkpoint(verify_note(body.decode(), verifier_key))
    if size == 0:
        raise Mismatch("the checkpoint is of an empty tree")

    if root_from_top_tiles(client, size) != root:
        raise Mismatch("the root from the top tiles is not the checkpoint's")

    leaves = []
    for index in range((size + WIDTH - 1) // WIDTH):
        leaves += client.tile(0, index, width_at(size, 0, index))
    if mth(leaves) != root:
        raise Mismatch("the RFC 6962 root of the level 0 tiles is not the checkpoint's")
    chain = bytes(HASH)
    for leaf in leaves:
        chain = sha256(chain, leaf)
    if chain != extensions.get("chain"):
        raise Mismatch("the hash chain over the level 0 tiles is not the checkpoint's chain line")

    level = 1
    while size >> (HEIGHT * level) > 0:
        span = WIDTH ** level  # leaves under one hash of this level
        hashes_at_level = size >> (HEIGHT * level)
        for index in range((hashes_at_level + WIDTH - 1) // WIDTH):
            tile = client.tile(level, index, width_at(size, level, index))
            for i, value in enumerate(tile):
                first = (index * WIDTH + i) * span
                if value != mth(leaves[first:first + span]):
                    raise Mismatch(f"tile {level}/{index} hash {i} is not the root of its leaves")
        level += 1
    levels = level

    # Nothing past the tree: the partial tiles one wider, and the next tile.
    for level in range(levels):
        hashes_at_level = size >> (HEIGHT * level)
        index, width = hashes_at_level // WIDTH, hashes_at_level % WIDTH
        if width < WIDTH - 1:
            client.expect_404(tile_path(level, index, width + 1))
        client.expect_404(tile_path(level, index + 1, 1))
    return origin, size, levels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http(s)://host:port of innsynd's listener")
    parser.add_argument("--verifier-key", required=True, help="checkpoint_key.pub")
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    with open(args.verifier_key) as f:
        verifier_key = f.read()
    client = Client(args.url, args.ca, args.cert, args.key)
    try:
        origin, size, levels = check(client, verifier_key)
    except Mismatch as mismatch:
        print(f"tlog_tiles_check: {mismatch}", file=sys.stderr)
        return 1
    print(f"checkpoint {origin} size {size}: signature, root, chain and {levels} tile levels "
          f"verified from {client.fetched} tiles")
    return 0


if __name__ == "__main__":
    sys.exit(main())
