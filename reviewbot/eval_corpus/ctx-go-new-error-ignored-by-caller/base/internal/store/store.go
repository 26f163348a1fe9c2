package store

import "database/sql"

type Order struct {
	ID    int64
	Total int64
}

type Store struct {
	DB *sql.DB
}

func (s *Store) Save(o Order) {
	s.DB.Exec("UPDATE orders SET total = $1 WHERE id = $2", o.Total, o.ID)
}
