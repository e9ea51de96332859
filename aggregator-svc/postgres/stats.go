package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"xii/aggregator-svc/aggregate"
	"xii/libs/xiiapi"
)

// groupColumns maps each of aggregate.GroupDimensions but time to its
// column, the same in responses and in the rollup. Only these names, and
// the units of timeUnits, ever reach the SQL text.
var groupColumns = map[string]string{
	"survey":   "survey",
	"device":   "device",
	"location": "location",
	"provider": "provider",
}

// timeUnits maps each interval to its date_bin stride. date_bin from a
// UTC midnight gives UTC buckets by arithmetic, where date_trunc(...,
// 'UTC') looks the time zone up for every row, at twice the cost.
var timeUnits = map[string]string{"1m": "1 minute", "1h": "1 hour", "1d": "1 day"}

// binOrigin is where the buckets start counting: a UTC midnight.
const binOrigin = "timestamptz '2000-01-01 00:00:00+00'"

// rollupBucket is the rollup's granularity (migration 0004).
const rollupBucket = time.Hour

// Where Stats counts, as the span attribute xii.stats.source says.
const (
	sourceRollup = "rollup"
	sourceTable  = "table"
)

// source is where one stats query counts: the table or its rollup.
type source struct {
	name  string
	table string
	count string // the count of a group
	// having keeps out the rollup's groups whose counts dropped to 0.
	having string
	// timeCol is what Filter.Since and Until bound.
	timeCol string
	// bucket returns the expression of a time bucket of stride unit.
	bucket func(unit string) string
}

var (
	tableSource = source{name: sourceTable, table: "responses", count: "count(*)", timeCol: "created_at",
		bucket: func(unit string) string { return "date_bin('" + unit + "', created_at, " + binOrigin + ")" }}
	rollupSource = source{name: sourceRollup, table: "response_counts", count: "sum(n)", having: "\nHAVING sum(n) > 0", timeCol: "bucket",
		bucket: func(unit string) string {
			if unit == "1 hour" {
				return "bucket"
			}
			return "date_bin('" + unit + "', bucket, " + binOrigin + ")"
		}}
)

// chooseSource returns the rollup when it can answer q exactly: its
// dimensions hold every filter, since and until fall on its bucket
// boundaries and the interval is no finer than its bucket. Otherwise the
// table, and why not the rollup.
func chooseSource(q aggregate.StatsQuery) (source, string) {
	aligned := func(t time.Time) bool { return t.IsZero() || t.Equal(t.Truncate(rollupBucket)) }
	switch {
	case !aligned(q.Filter.Since):
		return tableSource, "since inside an hour"
	case !aligned(q.Filter.Until):
		return tableSource, "until inside an hour"
	case q.GroupsByTime() && q.Bucket() < rollupBucket:
		return tableSource, "interval finer than an hour"
	}
	return rollupSource, ""
}

// Stats counts the responses matching q.Filter, per combination of the
// q.GroupBy dimensions: the q.Top (or aggregate.MaxGroups) largest groups,
// ties in key order, and the total of every matching response. Groups and
// total come from one statement, so they agree even while syncs commit. It
// reads the rollup when that can answer q (chooseSource), the table
// otherwise; both give the same counts.
//
// Errors: aggregate.ErrInvalid for a dimension not in
// aggregate.GroupDimensions or given twice, a time dimension without a
// valid interval, or a top outside 0..aggregate.MaxGroups; or a database
// error, which wraps ctx's error when ctx ended (see withCause).
func (s *Store) Stats(ctx context.Context, q aggregate.StatsQuery) (_ aggregate.Stats, err error) {
	ctx, span := s.tracer.Start(ctx, "stats")
	defer span.End()
	defer func() {
		err = withCause(ctx, err)
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
	}()
	if err := q.Validate(); err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	src, why := chooseSource(q)
	return s.stats(ctx, span, src, why, q)
}

func (s *Store) stats(ctx context.Context, span trace.Span, src source, why string, q aggregate.StatsQuery) (aggregate.Stats, error) {
	span.SetAttributes(attribute.String("xii.stats.source", src.name))
	if why != "" {
		span.SetAttributes(attribute.String("xii.stats.table_because", why))
	}
	keys, err := groupKeys(src, q)
	if err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	w := filterWhereOn(q.Filter, src.timeCol)
	stats := aggregate.Stats{Groups: []aggregate.Group{}}
	if len(keys) == 0 {
		query := "SELECT coalesce(" + src.count + ", 0)::bigint FROM " + src.table + w.String()
		if err := s.db.QueryRowContext(ctx, query, w.args...).Scan(&stats.Total); err != nil {
			return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
		}
		return stats, nil
	}

	limit := aggregate.MaxGroups
	if q.Top > 0 {
		limit = q.Top
	}
	exprs, outputs := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		exprs[i], outputs[i] = k.expr, k.expr
		if k.time {
			outputs[i] = timeKey(k.expr)
		}
	}
	// Grouped and ordered by the keys themselves, a time bucket by its
	// timestamp: formatting it once per group, not per row, is most of
	// the rollup's gain on a time series.
	query := "SELECT " + strings.Join(outputs, ", ") + ", " + src.count + "::bigint AS cnt, (sum(" + src.count + ") OVER ())::bigint AS total\nFROM " + src.table + w.String() +
		"\nGROUP BY " + strings.Join(exprs, ", ") + src.having +
		"\nORDER BY cnt DESC, " + strings.Join(exprs, ", ") + "\nLIMIT " + strconv.Itoa(limit+1) // one more says there are more
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	values := make([]string, len(keys))
	dest := make([]any, 0, len(keys)+2)
	for i := range values {
		dest = append(dest, &values[i])
	}
	var count int64
	dest = append(dest, &count, &stats.Total)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return aggregate.Stats{}, fmt.Errorf("stats: scan: %w", err)
		}
		g := aggregate.Group{Key: make(map[string]string, len(keys)), Count: count}
		for i, dim := range q.GroupBy {
			g.Key[dim] = values[i]
		}
		stats.Groups = append(stats.Groups, g)
	}
	if err := rows.Err(); err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	if len(stats.Groups) > limit {
		stats.Groups, stats.Truncated = stats.Groups[:limit], true
	}
	span.SetAttributes(attribute.Int("xii.stats.groups", len(stats.Groups)))
	return stats, nil
}

// groupKey is one grouped expression of a stats query.
type groupKey struct {
	expr string
	time bool // a time bucket, answered as timeKey(expr)
}

// timeKey formats the timestamp expr as xiiapi.TimeKey does. Its text
// sorts as the time does.
func timeKey(expr string) string {
	return `to_char(` + expr + ` AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
}

// groupKeys returns the expressions of q's dimensions in src, in
// q.GroupBy's order. It refuses unknown and repeated dimensions.
func groupKeys(src source, q aggregate.StatsQuery) ([]groupKey, error) {
	keys := make([]groupKey, 0, len(q.GroupBy))
	for i, d := range q.GroupBy {
		if slices.Contains(q.GroupBy[:i], d) {
			return nil, fmt.Errorf("%w: group_by: %q given twice", aggregate.ErrInvalid, d)
		}
		if d == xiiapi.TimeDimension {
			unit, ok := timeUnits[q.Interval]
			if !ok {
				return nil, fmt.Errorf("%w: interval: %q is not one of 1m, 1h, 1d", aggregate.ErrInvalid, q.Interval)
			}
			keys = append(keys, groupKey{expr: src.bucket(unit), time: true})
			continue
		}
		col, ok := groupColumns[d]
		if !ok {
			return nil, fmt.Errorf("%w: group_by: %q is not one of %s", aggregate.ErrInvalid, d, strings.Join(aggregate.GroupDimensions, ", "))
		}
		keys = append(keys, groupKey{expr: col})
	}
	return keys, nil
}
