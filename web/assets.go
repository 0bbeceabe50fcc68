package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"
)

// files holds the templates and the static assets: the binary serves
// everything itself (no CDN, no external font).
//
//go:embed templates/*.html assets/*
var files embed.FS

// asset is one embedded static file with its content hash.
type asset struct {
	body  []byte
	hash  string
	ctype string
}

// assets are the files under assets/, by name, hashed once.
var assets = loadAssets()

func loadAssets() map[string]asset {
	out := map[string]asset{}
	entries, _ := fs.ReadDir(files, "assets") // the directory is embedded; it exists
	for _, e := range entries {
		body, err := fs.ReadFile(files, "assets/"+e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(body)
		ctype := mime.TypeByExtension(path.Ext(e.Name()))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		out[e.Name()] = asset{body: body, hash: hex.EncodeToString(sum[:8]), ctype: ctype}
	}
	return out
}

// assetURL is the address of an asset with its content hash, so browsers
// may cache it for a year and still fetch a new build's version at once.
func assetURL(name string) string {
	a, ok := assets[name]
	if !ok {
		return "/assets/" + name
	}
	return "/assets/" + name + "?v=" + a.hash
}

// serveAsset serves an embedded asset with a strong ETag; a request that
// names the current hash (?v=) may be cached as immutable.
func serveAsset(c *gin.Context) {
	name := strings.TrimPrefix(c.Param("file"), "/")
	a, ok := assets[name]
	if !ok {
		c.Data(http.StatusNotFound, "text/plain; charset=utf-8", []byte("no such asset\n"))
		return
	}
	etag := `"` + a.hash + `"`
	h := c.Writer.Header()
	h.Set("ETag", etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if c.Query("v") == a.hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, a.ctype, a.body)
}
