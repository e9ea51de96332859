package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/lib/pq"
)

// plainTable is the scratch table: survey-svc's columns without its
// export indexes and checks.
const plainTable = `CREATE TABLE t (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	survey     text NOT NULL,
	text       text NOT NULL,
	device     text NOT NULL,
	location   text NOT NULL,
	answers    jsonb NULL,
	created_at timestamptz NOT NULL DEFAULT now()
)`

// cmdInsert measures what PostgreSQL alone sustains: one INSERT per
// statement (autocommit, so one commit each, like one survey-svc POST), from
// c workers through database/sql and lib/pq.
func cmdInsert(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := newFlagSet("insert", "INSERT single rows (the spread of post) from c workers through database/sql and\n"+
		"lib/pq, one commit each: the ceiling survey-svc's POST runs against.", stderr)
	pg := fs.String("postgres-url", defaultPostgres, "PostgreSQL: the server to create a scratch database on or, with -table, the database holding the table")
	table := fs.String("table", "", "insert into this existing table (columns survey, text, device, location, answers), e.g. responses of a\nsurvey-svc database; empty: a plain table t in a scratch database, dropped afterwards")
	pool := fs.Int("pool", 0, "connection pool size (0: one per worker)")
	seed := fs.Uint64("seed", 1, "seed of the generated rows")
	lf := addLoadFlags(fs, 32, 10*time.Second)
	if err := parse(fs, args); err != nil {
		return err
	}
	b, err := lf.bounds()
	if err != nil {
		return err
	}
	if *pool < 0 {
		return errors.New("-pool: must not be negative")
	}
	if *pool == 0 {
		*pool = b.c
	}
	dsn, name := *pg, *table
	if name == "" {
		s, serr := openScratch(ctx, *pg)
		if serr != nil {
			return serr
		}
		defer func() { err = errors.Join(err, s.drop()) }()
		if dsn, err = s.create(ctx, "xii_load_insert_"); err != nil {
			return err
		}
		name = "t"
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	defer db.Close()
	db.SetMaxOpenConns(*pool)
	db.SetMaxIdleConns(*pool)
	if *table == "" {
		if _, err := db.ExecContext(ctx, plainTable); err != nil {
			return fmt.Errorf("create table: %w", err)
		}
	}
	stmt := "INSERT INTO " + pq.QuoteIdentifier(name) + " (survey, text, device, location, answers) VALUES ($1, $2, $3, $4, $5)"
	sp := newSpread(*seed)
	fmt.Fprintf(stdout, "insert into %s  c=%d pool=%d d=%s\n", name, b.c, *pool, b.d)
	r := load(ctx, b, func(ctx context.Context) error {
		resp := sp.next()
		var answers any
		if resp.Answers != nil {
			j, err := json.Marshal(resp.Answers)
			if err != nil {
				return fmt.Errorf("answers: %w", err)
			}
			answers = string(j)
		}
		_, err := db.ExecContext(ctx, stmt, resp.Survey, resp.Text, resp.Device, resp.Location, answers)
		return err
	})
	r.print(stdout)
	return ctx.Err()
}
