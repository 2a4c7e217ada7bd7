package main

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/rootwalk/rootwalk/cache"
)

// loadCacheFile warms c from the file a previous run saved. A missing
// file is a cold start; a damaged one is reported and the rest of it
// skipped, for a cache is never worth refusing to start over.
func loadCacheFile(c *cache.Cache, path string, log *slog.Logger) {
	start := time.Now()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		log.Info("no cache file yet; starting cold", "file", path)
		return
	}
	if err != nil {
		log.Warn("cache file unreadable; starting cold", "file", path, "err", err)
		return
	}
	defer f.Close() //nolint:errcheck // read only: closing cannot lose data
	loaded, skipped, err := c.Load(f, time.Now())
	if err != nil {
		log.Warn("cache file damaged; kept what was read before the damage", "file", path, "loaded", loaded, "err", err)
		return
	}
	log.Info("cache loaded", "file", path, "entries", loaded, "expired", skipped, "duration", time.Since(start))
}

// saveCacheFile writes c to path through a temporary file renamed into
// place, so that a crash while writing leaves the previous file whole.
func saveCacheFile(c *cache.Cache, path string, log *slog.Logger) error {
	start := time.Now()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("save cache: %w", err)
	}
	n, err := c.Save(tmp, time.Now())
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name()) // best effort: the error that matters is err
		return fmt.Errorf("save cache to %s: %w", path, err)
	}
	log.Info("cache saved", "file", path, "entries", n, "duration", time.Since(start))
	return nil
}
