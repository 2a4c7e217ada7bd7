package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/config"
)

// loadConfig reads the configuration for cmd; every problem is a usage
// error, printed one per line.
func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	cfg, err := config.Load(cmd.Flags(), os.Environ())
	if err != nil {
		return nil, badConfiguration(err)
	}
	return cfg, nil
}

// newLogger builds the process logger from the log.* settings.
func newLogger(c config.Log, w io.Writer) *slog.Logger {
	log, _ := newLevelLogger(c, w)
	return log
}

// newLevelLogger is newLogger, with the level it logs at, which a reload
// may change.
func newLevelLogger(c config.Log, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(c.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == config.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}
