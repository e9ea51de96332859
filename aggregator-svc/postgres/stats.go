package postgres

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"xii/aggregator-svc/aggregate"
)

// groupColumns maps each of aggregate.GroupDimensions to its column. Only
// these names ever reach the SQL text.
var groupColumns = map[string]string{
	"survey":   "survey",
	"device":   "device",
	"location": "location",
	"provider": "provider",
}

// Stats counts the responses matching q.Filter, per combination of the
// q.GroupBy dimensions: the aggregate.MaxGroups largest groups, ties in key
// order, and the total of every matching response. Groups and total come
// from one statement, so they agree even while syncs commit.
//
// Errors: aggregate.ErrInvalid for a dimension not in
// aggregate.GroupDimensions or given twice, or a database error.
func (s *Store) Stats(ctx context.Context, q aggregate.StatsQuery) (aggregate.Stats, error) {
	cols, err := groupBy(q.GroupBy)
	if err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	w := filterWhere(q.Filter)
	stats := aggregate.Stats{Groups: []aggregate.Group{}}
	if len(cols) == 0 {
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM responses"+w.String(), w.args...).Scan(&stats.Total); err != nil {
			return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
		}
		return stats, nil
	}

	keys := strings.Join(cols, ", ")
	query := "SELECT " + keys + ", count(*) AS n, (sum(count(*)) OVER ())::bigint AS total\nFROM responses" + w.String() +
		"\nGROUP BY " + keys + "\nORDER BY n DESC, " + keys + "\nLIMIT " + strconv.Itoa(aggregate.MaxGroups+1) // one more says there are more
	rows, err := s.db.QueryContext(ctx, query, w.args...)
	if err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	values := make([]string, len(cols))
	dest := make([]any, 0, len(cols)+2)
	for i := range values {
		dest = append(dest, &values[i])
	}
	var count int64
	dest = append(dest, &count, &stats.Total)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return aggregate.Stats{}, fmt.Errorf("stats: scan: %w", err)
		}
		g := aggregate.Group{Key: make(map[string]string, len(cols)), Count: count}
		for i, dim := range q.GroupBy {
			g.Key[dim] = values[i]
		}
		stats.Groups = append(stats.Groups, g)
	}
	if err := rows.Err(); err != nil {
		return aggregate.Stats{}, fmt.Errorf("stats: %w", err)
	}
	if len(stats.Groups) > aggregate.MaxGroups {
		stats.Groups, stats.Truncated = stats.Groups[:aggregate.MaxGroups], true
	}
	return stats, nil
}

// groupBy returns the columns of dims, refusing unknown and repeated ones.
func groupBy(dims []string) ([]string, error) {
	cols := make([]string, 0, len(dims))
	for i, d := range dims {
		col, ok := groupColumns[d]
		if !ok {
			return nil, fmt.Errorf("%w: group_by: %q is not one of %s", aggregate.ErrInvalid, d, strings.Join(aggregate.GroupDimensions, ", "))
		}
		if slices.Contains(dims[:i], d) {
			return nil, fmt.Errorf("%w: group_by: %q given twice", aggregate.ErrInvalid, d)
		}
		cols = append(cols, col)
	}
	return cols, nil
}
