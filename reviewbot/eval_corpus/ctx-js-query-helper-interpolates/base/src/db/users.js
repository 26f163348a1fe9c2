const { pool } = require("./pool");

async function findUserBy(field, value) {
  const sql = `SELECT id, email, name FROM users WHERE ${field} = '${value}'`;
  const { rows } = await pool.query(sql);
  return rows;
}

async function findUserById(id) {
  const { rows } = await pool.query("SELECT id, email, name FROM users WHERE id = $1", [id]);
  return rows[0];
}

module.exports = { findUserBy, findUserById };
