package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"time"

	"github.com/lib/pq"
)

// defaultPostgres is the local server with trust authentication.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// scratch is a set of databases this run created on a server.
type scratch struct {
	admin  *sql.DB
	server string
	names  []string
}

func openScratch(ctx context.Context, server string) (*scratch, error) {
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("postgres url %q: want postgres://user@host:port/db", server)
	}
	admin, err := sql.Open("postgres", server)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &scratch{admin: admin, server: server}, nil
}

// create creates an empty database named prefix plus random hex digits
// and returns its URL.
func (s *scratch) create(ctx context.Context, prefix string) (string, error) {
	b := make([]byte, 6)
	rand.Read(b)
	name := prefix + hex.EncodeToString(b)
	if _, err := s.admin.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	s.names = append(s.names, name)
	u, _ := url.Parse(s.server) // checked by openScratch
	u.Path = "/" + name
	return u.String(), nil
}

// drop drops every database created, even when the run was interrupted.
func (s *scratch) drop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	defer s.admin.Close()
	for _, name := range s.names {
		if _, err := s.admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			return fmt.Errorf("drop database %s: %w", name, err)
		}
	}
	return nil
}
