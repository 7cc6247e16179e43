// A standard tlog client against innsyn's tiles: Go's golang.org/x/mod
// packages (sumdb/note for the signed note, sumdb/tlog for the tiles and
// proofs), as Debian ships them, with nothing of innsyn's code. It fetches
// /checkpoint, opens it with the verifier key, reads the tree through
// tlog.TileHashReader (which authenticates every tile it reads against the
// checkpoint's root), checks inclusion proofs of the first, middle and last
// entries, and, given an older checkpoint, that the tree grew from it
// append-only (a consistency proof computed from the tiles).
//
// tlog-tiles drops the tile height from sumdb's paths (tile/8/L/N becomes
// tile/L/N); the path is otherwise tlog.Tile.Path's.
//
// Prints one summary line; exits 1 naming what failed.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

const tileHeight = 8

type tileServer struct {
	base    string
	client  *http.Client
	fetched int
}

func (s *tileServer) get(path string) ([]byte, error) {
	response, err := s.client.Get(s.base + path)
	if err != nil {
		return nil, err
	}
	defer response.Body.Close()
	body, err := io.ReadAll(response.Body)
	if err != nil {
		return nil, err
	}
	if response.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", path, response.Status, body)
	}
	return body, nil
}

func (s *tileServer) Height() int { return tileHeight }

func (s *tileServer) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, tile := range tiles {
		path := "/" + strings.Replace(tile.Path(), "tile/8/", "tile/", 1)
		body, err := s.get(path)
		if err != nil {
			return nil, err
		}
		data[i] = body
		s.fetched++
	}
	return data, nil
}

func (s *tileServer) SaveTiles([]tlog.Tile, [][]byte) {}

// openCheckpoint verifies the note's signature and parses its first three
// lines (tlog-checkpoint); extension lines are left to innsyn's own tools.
func openCheckpoint(text []byte, verifiers note.Verifiers) (string, tlog.Tree, error) {
	opened, err := note.Open(text, verifiers)
	if err != nil {
		return "", tlog.Tree{}, fmt.Errorf("checkpoint signature: %w", err)
	}
	lines := strings.Split(opened.Text, "\n")
	if len(lines) < 4 {
		return "", tlog.Tree{}, errors.New("checkpoint has fewer than three lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		return "", tlog.Tree{}, fmt.Errorf("checkpoint size %q", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return "", tlog.Tree{}, fmt.Errorf("checkpoint root: %w", err)
	}
	return lines[0], tlog.Tree{N: size, Hash: root}, nil
}

func run() error {
	url := flag.String("url", "", "http(s)://host:port of innsynd's HTTP listener")
	keyFile := flag.String("verifier-key", "", "checkpoint_key.pub")
	oldFile := flag.String("old-checkpoint", "", "an earlier checkpoint note to check growth from")
	caFile := flag.String("ca", "", "CA certificate (PEM), for https")
	certFile := flag.String("cert", "", "client certificate (PEM)")
	keyPem := flag.String("key", "", "client key (PEM)")
	flag.Parse()

	vkey, err := os.ReadFile(*keyFile)
	if err != nil {
		return err
	}
	verifier, err := note.NewVerifier(strings.TrimSpace(string(vkey)))
	if err != nil {
		return fmt.Errorf("verifier key: %w", err)
	}
	verifiers := note.VerifierList(verifier)

	client := &http.Client{}
	if *caFile != "" {
		pool := x509.NewCertPool()
		ca, err := os.ReadFile(*caFile)
		if err != nil {
			return err
		}
		pool.AppendCertsFromPEM(ca)
		config := &tls.Config{RootCAs: pool}
		if *certFile != "" {
			pair, err := tls.LoadX509KeyPair(*certFile, *keyPem)
			if err != nil {
				return err
			}
			config.Certificates = []tls.Certificate{pair}
		}
		client.Transport = &http.Transport{TLSClientConfig: config}
	}
	server := &tileServer{base: strings.TrimSuffix(*url, "/"), client: client}

	text, err := server.get("/checkpoint")
	if err != nil {
		return err
	}
	origin, tree, err := openCheckpoint(text, verifiers)
	if err != nil {
		return err
	}
	hashes := tlog.TileHashReader(tree, server)
	// TreeHash through the tile reader recomputes the root from the tiles.
	root, err := tlog.TreeHash(tree.N, hashes)
	if err != nil {
		return fmt.Errorf("tree hash from the tiles: %w", err)
	}
	if root != tree.Hash {
		return fmt.Errorf("tree hash from the tiles %v is not the checkpoint's %v", root, tree.Hash)
	}
	for _, seq := range []int64{0, tree.N / 2, tree.N - 1} {
		leaf, err := hashes.ReadHashes([]int64{tlog.StoredHashIndex(0, seq)})
		if err != nil {
			return fmt.Errorf("leaf hash of entry %d: %w", seq, err)
		}
		proof, err := tlog.ProveRecord(tree.N, seq, hashes)
		if err != nil {
			return fmt.Errorf("inclusion proof of entry %d: %w", seq, err)
		}
		if err := tlog.CheckRecord(proof, tree.N, tree.Hash, seq, leaf[0]); err != nil {
			return fmt.Errorf("inclusion of entry %d: %w", seq, err)
		}
	}
	grew := ""
	if *oldFile != "" {
		oldText, err := os.ReadFile(*oldFile)
		if err != nil {
			return err
		}
		oldOrigin, old, err := openCheckpoint(oldText, verifiers)
		if err != nil {
			return fmt.Errorf("old %w", err)
		}
		if oldOrigin != origin || old.N > tree.N {
			return fmt.Errorf("old checkpoint %s/%d is not an earlier one of %s/%d", oldOrigin, old.N,
				origin, tree.N)
		}
		proof, err := tlog.ProveTree(tree.N, old.N, hashes)
		if err != nil {
			return fmt.Errorf("consistency proof from %d: %w", old.N, err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash); err != nil {
			return fmt.Errorf("consistency from %d: %w", old.N, err)
		}
		grew = fmt.Sprintf(", consistent with size %d", old.N)
	}
	fmt.Printf("checkpoint %s size %d: signature, tree hash and 3 inclusion proofs verified%s "+
		"from %d tiles\n", origin, tree.N, grew, server.fetched)
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tlog_client:", err)
		os.Exit(1)
	}
}
