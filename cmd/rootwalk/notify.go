package main

import (
	"log/slog"

	"github.com/coreos/go-systemd/v22/daemon"
)

// readyStatus is the STATUS= that systemctl status shows while serving.
const readyStatus = "STATUS=answering queries"

// notifyReady tells systemd (Type=notify, sd_notify(3)) that rootwalk is
// ready: its DNS listener is bound, so a unit ordered after it can send
// queries. Without NOTIFY_SOCKET, as when not started by systemd, it does
// nothing.
func notifyReady(log *slog.Logger) {
	sdNotify(log, daemon.SdNotifyReady+"\n"+readyStatus)
}

// notifyStopping tells systemd that rootwalk is shutting down, so that
// systemctl shows it stopping rather than failed while it finishes the
// queries in flight.
func notifyStopping(log *slog.Logger) {
	sdNotify(log, daemon.SdNotifyStopping)
}

// sdNotify sends state to systemd's notification socket. A failure only
// costs systemd's view of the service (it would time out waiting for
// READY=1 and stop the unit), so it is logged, not fatal.
func sdNotify(log *slog.Logger, state string) {
	// NOTIFY_SOCKET stays set: the later STOPPING=1 needs it too.
	sent, err := daemon.SdNotify(false, state)
	switch {
	case err != nil:
		log.Warn("notify systemd", "state", state, "err", err)
	case sent:
		log.Debug("notified systemd", "state", state)
	}
}
