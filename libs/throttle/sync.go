package throttle

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"xii/libs/xiiapi"
)

// SyncLog logs answers with the sync they were read after: each at debug
// level, and one that left providers out at warn level, naming them, once
// per set of missing providers an interval (a dead provider misses every
// answer), with the count of like answers held back since.
type SyncLog struct {
	logger     *slog.Logger
	incomplete *Throttle
}

// NewSyncLog returns a SyncLog writing to logger, warning once per every.
func NewSyncLog(logger *slog.Logger, every time.Duration) *SyncLog {
	return &SyncLog{logger: logger, incomplete: New(every)}
}

// Answered logs one answer of kind op read after rep, with attrs.
func (l *SyncLog) Answered(ctx context.Context, op string, rep xiiapi.SyncReport, attrs ...slog.Attr) {
	var unsynced []string
	if !rep.Complete {
		unsynced = rep.Incomplete()
	}
	l.AnsweredHeaders(ctx, op, rep.Complete, unsynced, attrs...)
}

// AnsweredHeaders logs one answer of kind op whose sync is known only as
// its headers say it: complete, or not with the providers unsynced.
func (l *SyncLog) AnsweredHeaders(ctx context.Context, op string, complete bool, unsynced []string, attrs ...slog.Attr) {
	level := slog.LevelDebug
	if complete && !l.logger.Enabled(ctx, level) {
		return
	}
	attrs = append(attrs, slog.String("op", op), slog.Bool("complete", complete))
	if !complete {
		attrs = append(attrs, slog.Any("unsynced_providers", unsynced))
		if ok, held := l.incomplete.Allow(strings.Join(unsynced, ","), time.Now()); ok {
			level = slog.LevelWarn
			attrs = append(attrs, slog.Int("like_it_since_last_line", held))
		}
	}
	l.logger.LogAttrs(ctx, level, "answered", attrs...)
}
