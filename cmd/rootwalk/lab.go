package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/rootwalk/rootwalk/config"
	"github.com/rootwalk/rootwalk/zones"
)

func newLabCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run only the lab (a small DNS tree on 127.53.0.0/16) and print its root hints and trust anchor",
		Long: `Run only the lab: authoritative servers for a whole DNS tree, each on its own
127.53.x.y address, all on --lab-port. The root hints printed on stdout work
for rootwalk (--root-hints FILE --upstream-port PORT) and for other resolvers.
Glue carries no port, so another resolver needs the lab on port 53 (as root).
The lab is DNSSEC-signed; its trust anchor, the DS records of its root's key,
follows the hints in master-file form (a validator's trust-anchor-file), or
goes to --anchor-out FILE. Keys are made afresh each run.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return runLab(cmd, cfg)
		},
	}
	config.RegisterFlags(cmd.Flags(), "lab.port", "lab.loss", "lab.anchor_out", "log.level", "log.format")
	return cmd
}

func runLab(cmd *cobra.Command, cfg *config.Config) error {
	ctx := cmd.Context()
	log := newLogger(cfg.Log, cmd.ErrOrStderr())
	lab, err := zones.StartLab(ctx, zones.LabOptions{Port: int(cfg.Lab.Port), Loss: cfg.Lab.Loss, Logger: log})
	if err != nil {
		return fmt.Errorf("start lab: %w", err)
	}
	anchor, err := zones.LabAnchor()
	if err != nil {
		return errors.Join(fmt.Errorf("lab trust anchor: %w", err), lab.Close())
	}
	fmt.Fprint(cmd.OutOrStdout(), lab.Hints())
	if cfg.Lab.AnchorOut != "" {
		if err := os.WriteFile(cfg.Lab.AnchorOut, []byte(anchor), 0o644); err != nil {
			return errors.Join(fmt.Errorf("write the lab's trust anchor: %w", err), lab.Close())
		}
	} else {
		fmt.Fprint(cmd.OutOrStdout(), "\n; The lab's trust anchor: its root's DS records.\n"+anchor)
	}
	<-ctx.Done()
	log.Info("shutting down")
	return lab.Close()
}
