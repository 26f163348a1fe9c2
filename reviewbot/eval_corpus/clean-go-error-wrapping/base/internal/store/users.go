package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

var ErrNotFound = errors.New("store: not found")

type Store struct {
	DB *sql.DB
}

func (s *Store) UserEmail(ctx context.Context, id int64) (string, error) {
	var email string
	err := s.DB.QueryRowContext(ctx, "SELECT email FROM users WHERE id = $1", id).Scan(&email)
	if err == sql.ErrNoRows {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: user %d: %v", id, err)
	}
	return email, nil
}
